// The robot of the OTA fault drill: a real update agent process (killed with SIGKILL where the
// drill says), the steering node following the same model store on the embedded bus, and a
// closed loop feeding it camera frames from a world the caller supplies (the simulator, which
// this folder does not import) and driving that world with its commands.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { storedManifestPath } from '../../models/src/model-store.ts';
import {
  EmbeddedBus,
  QOS_COMMANDS,
  QOS_LATCHED,
  QOS_SENSOR_DATA,
  resolveParameters,
  timeFromMs,
  timeToMs,
  type Twist,
} from '../../nodes/runtime/index.ts';
import { startSteering, type RunningSteering } from '../../nodes/steering/main.ts';
import type { FollowerEvent } from '../../nodes/steering/model-follower.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from '../../nodes/steering/params.ts';
import { OtaStatusSchema, type OtaStatus } from './status.ts';
import { ModelStore } from './store.ts';
import { statusTopic } from './topics.ts';

/** What the drill drives in: a world stepped by commands, seen by a 640 x 480 rgb8 camera. */
export interface DrillWorld {
  /** Advances the world `dtS` seconds under `command`; returns the camera frame after it. */
  step(command: Twist, dtS: number): Uint8Array;
  /** The vehicle's angular rate at full steering (the node's gain and clamp). */
  readonly maxAngularRate: number;
}

const CAMERA_TOPIC = '/camera/camera/color/image_raw';
const ZERO: Twist = { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } };

/** Resolves when `cond()` holds, checked on each event and every 20 ms; rejects naming `what`. */
async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A swap seen by the loop: the frames published while the new model loaded and took over. */
export interface SwapWindow {
  readonly from: string;
  readonly to: string;
  readonly warmMs: number;
  /** Frames published from the pointer moving to the new model serving, and one period after. */
  readonly frames: number;
  /** Of those, frames the node never answered with a command. */
  readonly dropped: number;
  /** Longest time between two answered frames in the window (ms). */
  readonly maxGapMs: number;
}

/**
 * The closed loop at a fixed camera rate: each period a frame is rendered and published; the
 * next one waits until the node answered the last (up to a second), so a frame is dropped only
 * when the node itself never answers it, never because this machine is busy.
 */
class ClosedLoop {
  readonly #bus: EmbeddedBus;
  readonly #world: DrillWorld;
  readonly #periodMs: number;
  #command: Twist = ZERO;
  #answered = -1;
  #stopped = false;
  #done: Promise<void> = Promise.resolve();
  /** Stamps of published frames and when each was answered (NaN: not yet). */
  readonly frames: { stamp: number; answeredAt: number }[] = [];

  constructor(bus: EmbeddedBus, world: DrillWorld, periodMs: number) {
    this.#bus = bus;
    this.#world = world;
    this.#periodMs = periodMs;
  }

  start(): void {
    const node = this.#bus.createNode('drill_world');
    const camera = node.createPublisher('sensor_msgs/msg/Image', CAMERA_TOPIC, QOS_SENSOR_DATA);
    node.createSubscription('geometry_msgs/msg/TwistStamped', '/cmd_vel', QOS_COMMANDS, (m) => {
      this.#command = m.twist;
      const stamp = timeToMs(m.header.stamp);
      if (stamp > this.#answered) {
        this.#answered = stamp;
        const f = this.frames.findLast((x) => Math.abs(x.stamp - stamp) < 1e-3);
        if (f !== undefined && Number.isNaN(f.answeredAt)) f.answeredAt = Date.now();
      }
    });
    node.createPublisher('std_msgs/msg/Bool', '/fadnet/enable', QOS_LATCHED).publish({ data: true });
    this.#done = (async () => {
      while (!this.#stopped) {
        const started = Date.now();
        const data = this.#world.step(this.#command, this.#periodMs / 1000);
        const stamp = this.#bus.clock.now();
        this.frames.push({ stamp, answeredAt: Number.NaN });
        camera.publish({
          header: { stamp: timeFromMs(stamp), frame_id: 'camera_color_optical_frame' },
          height: 480,
          width: 640,
          encoding: 'rgb8',
          is_bigendian: 0,
          step: 1920,
          data,
        });
        const end = Date.now() + 1000;
        while (this.#answered < stamp - 1e-3 && Date.now() < end && !this.#stopped) {
          await this.#bus.flush();
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        const wait = this.#periodMs - (Date.now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

export interface RigOptions {
  readonly brokerUrl: string;
  readonly fleet: string;
  readonly robot: string;
  readonly store: string;
  /** The agent's ROS 2 params file (fadnet_ota section). */
  readonly agentParamsFile: string;
  /** argv that runs `fadnet` (e.g. [node, bin/fadnet.mjs]). */
  readonly fadnet: readonly string[];
  readonly seed: string;
  readonly world: DrillWorld;
  readonly cameraPeriodMs?: number;
  readonly log?: (line: string) => void;
}

export class DrillRig {
  readonly #o: RigOptions;
  readonly #log: (line: string) => void;
  readonly #bus = new EmbeddedBus();
  #steering: RunningSteering | undefined;
  #loop: ClosedLoop | undefined;
  #client: MqttClient | undefined;
  #agent: ChildProcess | undefined;
  #agentLines: string[] = [];
  #status: OtaStatus | undefined;
  readonly #statuses: OtaStatus[] = [];
  readonly #events: { event: FollowerEvent; at: number }[] = [];
  readonly swaps: SwapWindow[] = [];
  /** Every line of every agent process of the drill. */
  readonly allAgentLines: string[] = [];

  private constructor(o: RigOptions) {
    this.#o = o;
    this.#log = o.log ?? (() => {});
  }

  /** Seeds the store with the factory model, starts the steering node and the closed loop. */
  static async start(o: RigOptions): Promise<DrillRig> {
    const rig = new DrillRig(o);
    await ModelStore.open(o.store, { seed: o.seed, log: rig.#log });
    const params = resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
      {
        name: 'drill',
        values: {
          use_stamped: true,
          autonomous_on_start: true,
          model_store: o.store,
          model_store_poll_ms: 100,
          execution_providers: ['cpu'],
          max_angular_rate: o.world.maxAngularRate,
          steering_gain: o.world.maxAngularRate,
          turn_slowdown: 0.3,
          // A shared, busy machine: the deadline judges the accelerator, not this drill's neighbours.
          inference_deadline_ms: 1000,
          max_frame_age_ms: 2000,
        },
      },
    ]);
    rig.#steering = await startSteering(
      rig.#bus,
      params,
      ['--ros-args', '-r', `${params.camera_topic}:=${CAMERA_TOPIC}`],
      {
        onModelEvent: (event) => rig.#onModelEvent(event),
      },
    );
    try {
      await rig.#startLoopAndStatus();
    } catch (error) {
      await rig.stop();
      throw error;
    }
    return rig;
  }

  async #startLoopAndStatus(): Promise<void> {
    const o = this.#o;
    this.#loop = new ClosedLoop(this.#bus, o.world, o.cameraPeriodMs ?? 50);
    this.#loop.start();
    this.#client = await mqtt.connectAsync(o.brokerUrl, {
      clientId: `fadnet-${o.fleet}-drill-${process.pid}`,
      clean: true,
    });
    this.#client.on('message', (_topic, payload) => {
      let json: unknown;
      try {
        json = JSON.parse(payload.toString('utf8'));
      } catch {
        this.#log('drill: a status message is not JSON');
        return;
      }
      const parsed = OtaStatusSchema.safeParse(json);
      if (parsed.success) {
        this.#status = parsed.data;
        this.#statuses.push(parsed.data);
      } else this.#log(`drill: a status message fails its schema: ${parsed.error.message}`);
    });
    await this.#client.subscribeAsync(statusTopic(o.fleet, o.robot), { qos: 1 });
  }

  #onModelEvent(event: FollowerEvent): void {
    const at = Date.now();
    this.#events.push({ event, at });
    if (event.kind !== 'swapped') return;
    const loading = this.#events.findLast((e) => e.event.kind === 'loading');
    const from = (loading?.at ?? at) - 1;
    const period = this.#o.cameraPeriodMs ?? 50;
    // Judged a second later, when every frame of the window has had its chance to be answered.
    setTimeout(() => {
      const frames = this.#loop?.frames ?? [];
      const inWindow = frames.filter((f) => f.stamp >= from && f.stamp <= at + period);
      const answered = inWindow.filter((f) => !Number.isNaN(f.answeredAt)).map((f) => f.answeredAt);
      let maxGap = 0;
      for (let i = 1; i < answered.length; i++) maxGap = Math.max(maxGap, answered[i]! - answered[i - 1]!);
      this.swaps.push({
        from: event.from,
        to: event.to,
        warmMs: event.warmMs,
        frames: inWindow.length,
        dropped: inWindow.length - answered.length,
        maxGapMs: maxGap,
      });
    }, 1000);
    this.#log(`drill: steering node swapped ${event.from} -> ${event.to} (${event.warmMs} ms to warm)`);
  }

  get steeringModel(): string {
    return this.#steering?.node.modelVersion ?? '';
  }

  get status(): OtaStatus | undefined {
    return this.#status;
  }

  /** Frames the steering node answered so far. */
  get answeredFrames(): number {
    return this.#loop?.frames.filter((f) => !Number.isNaN(f.answeredAt)).length ?? 0;
  }

  /** Starts the agent process; with `pauseAt`, it stops there (FADNET_OTA_PAUSE_AT). */
  startAgent(pauseAt?: string): void {
    const [cmd, ...args] = this.#o.fadnet;
    this.#agentLines = [];
    const child = spawn(
      cmd!,
      [...args, 'node', 'ota', '--embedded', '--ros-args', '--params-file', this.#o.agentParamsFile],
      {
        env: { ...process.env, FADNET_OTA_PAUSE_AT: pauseAt ?? '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let rest = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        this.#agentLines.push(line);
        this.allAgentLines.push(line);
        this.#log(`agent: ${line}`);
      }
    });
    this.#agent = child;
  }

  /** The agent's stderr lines since it started. */
  get agentLines(): readonly string[] {
    return this.#agentLines;
  }

  async waitAgentLine(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    await waitFor(
      `agent line ${pattern}`,
      () => this.#agentLines.some((l) => pattern.test(l)) || (this.#agent?.exitCode ?? null) !== null,
      timeoutMs,
    );
    const line = this.#agentLines.find((l) => pattern.test(l));
    if (line === undefined)
      throw new Error(
        `the agent exited (${this.#agent?.exitCode}) before ${pattern}: ${this.#agentLines.slice(-3).join(' | ')}`,
      );
    return line;
  }

  /** SIGKILL, as a power cut: no handler runs, nothing is flushed. */
  async killAgent(): Promise<void> {
    const child = this.#agent;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.#agent = undefined;
  }

  async waitStatus(what: string, pred: (s: OtaStatus) => boolean, timeoutMs = 60_000): Promise<OtaStatus> {
    let found: OtaStatus | undefined;
    try {
      await waitFor(what, () => (found = this.#statuses.find(pred)) !== undefined, timeoutMs);
    } catch (error) {
      const last = this.#status;
      const said =
        last === undefined
          ? 'no status'
          : `last status ${last.state} ${last.release?.version ?? ''} ${last.reason?.kind ?? ''}: ${last.reason?.message ?? ''}`;
      throw new Error(`${(error as Error).message} (${said})`, { cause: error });
    }
    return found!;
  }

  /** Forget statuses seen so far (each scenario waits for its own). */
  clearStatuses(): void {
    this.#statuses.length = 0;
  }

  async waitSteering(model: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(`the steering node to drive ${model}`, () => this.steeringModel === model, timeoutMs);
  }

  /** Chunk files of downloads on disk. */
  async chunksOnDisk(): Promise<number> {
    const dir = path.join(this.#o.store, 'partial');
    let n = 0;
    for (const sha of await readdir(dir).catch(() => [] as string[]))
      n += (await readdir(path.join(dir, sha))).filter((f) => f.endsWith('.chunk')).length;
    return n;
  }

  /**
   * The store's verdict after a fault: the pointer names a model whose every file verifies, the
   * previous one too if named, and the manifest the steering node would load is that model's.
   */
  async intact(): Promise<{ intact: boolean; active: string; detail: string }> {
    const store = await ModelStore.attach(this.#o.store, { log: () => {} });
    const p = store.pointer;
    if (p === undefined) return { intact: false, active: '', detail: 'no active.json' };
    const active = await store.verified(p.active.version);
    if (active === undefined || store.refOf(active).onnxSha256 !== p.active.onnxSha256)
      return {
        intact: false,
        active: p.active.version,
        detail: `active ${p.active.version} does not verify`,
      };
    if (p.previous !== null && (await store.verified(p.previous.version)) === undefined)
      return {
        intact: false,
        active: p.active.version,
        detail: `previous ${p.previous.version} does not verify`,
      };
    return {
      intact: true,
      active: p.active.version,
      detail: `active ${p.active.version} verified (${path.relative(this.#o.store, storedManifestPath(this.#o.store, p.active))})`,
    };
  }

  async stop(): Promise<void> {
    await this.killAgent();
    await this.#loop?.stop();
    await this.#steering?.stop();
    await this.#client?.endAsync();
    await this.#bus.shutdown();
  }
}
