// The steering node: camera frames in, FADNet through the inference engine, velocity commands
// out, with the deadline watchdog between the model and the wheels. Written once against the
// node runtime; the same code runs on the embedded bus and on ROS 2.
import type { SteeringEngine } from '../../models/src/engine/engine.ts';
import type { InputSpec } from '../../models/src/input-spec.ts';
import { createPreprocessor, FrameError, type Preprocessor } from '../../models/src/preprocess/index.ts';
import type { Cancel, TimeJump } from '../runtime/clock.ts';
import {
  DiagnosticLevel,
  timeFromMs,
  timeToMs,
  zeroTwist,
  type CompressedImage,
  type Image,
  type Twist,
} from '../runtime/messages.ts';
import type { NodeParamValues } from '../runtime/params.ts';
import { QOS_COMMANDS, QOS_LATCHED, QOS_SENSOR_DATA, QOS_STATUS } from '../runtime/qos.ts';
import type { NodeHandle, Publisher } from '../runtime/transport.ts';
import { jitterOf } from './health.ts';
import { Window } from './latency.ts';
import type { STEERING_PARAMS } from './params.ts';
import {
  initialShapingState,
  rampToZero,
  shapeCommand,
  type ShapingParams,
  type ShapingState,
} from './shaping.ts';
import { CLOCK_FAULTS, judge, type StopReason, type Verdict, type WatchdogParams } from './watchdog.ts';

export type SteeringParams = NodeParamValues<typeof STEERING_PARAMS>;

type Frame =
  | { readonly kind: 'raw'; readonly msg: Image }
  | { readonly kind: 'compressed'; readonly msg: CompressedImage };

export interface SteeringStats {
  readonly received: number;
  readonly processed: number;
  /** Frames replaced by a newer one while inference ran (latest frame wins). */
  readonly dropped: number;
  /** Frames that failed preprocessing (bad encoding, truncated, undecodable). */
  readonly rejected: number;
  /** Results discarded because their inference missed the deadline. */
  readonly late: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly fps: number;
  readonly state: 'driving' | 'stopping' | 'stopped';
  readonly reason: StopReason | undefined;
  readonly detail: string;
}

/** What the node drives with; replaced whole by swapModel, between frames. */
export interface SteeringModel {
  readonly engine: SteeringEngine;
  readonly inputSpec: InputSpec;
  /** `name@version`, reported in diagnostics and health. */
  readonly modelVersion: string;
}

/** The current model's record since it started serving, for the OTA agent's probation. */
export interface ModelHealth {
  readonly model: string;
  /** Node-clock ms when it started serving. */
  readonly sinceMs: number;
  readonly processed: number;
  readonly inferenceFailures: number;
  readonly late: number;
  readonly watchdogStops: number;
  readonly inferenceP99Ms: number | undefined;
  readonly jitter: number | undefined;
}

/** Raw outputs kept for the jitter figure. */
const JITTER_WINDOW = 30;

export class SteeringNode {
  readonly #node: NodeHandle;
  #engine: SteeringEngine;
  #pre: Preprocessor;
  readonly #p: SteeringParams;
  readonly #shaping: ShapingParams;
  readonly #watch: WatchdogParams;
  #modelVersion: string;
  readonly #log: (line: string) => void;
  #inferenceFailures = 0;
  #input: Float32Array;
  /** The inference running now, if any: a swap waits for it before handing back the old engine. */
  #inflight: Promise<void> | undefined;
  #health: MutableHealth;
  #inferenceMs = new Window(128);
  #recentSteering: number[] = [];
  readonly #publishCmd: (t: Twist, stampMs: number) => void;
  readonly #steeringPub: Publisher<{ data: number }>;
  readonly #cancel: Cancel[] = [];
  readonly #latency = new Window();
  readonly #completions = new Window(64);

  #enabled: boolean;
  #busySince: number | undefined;
  #pending: Frame | undefined;
  #lastFailed = false;
  #lastCommandStamp: number | undefined;
  #lastShapedAt: number | undefined;
  #shape: ShapingState = initialShapingState();
  #output: Twist = initialShapingState().command;
  #rampFrom: Twist | undefined;
  #verdict: Verdict = { drive: false, reason: 'no_frames', detail: 'no camera frame yet' };
  #lastTick: number;
  /** How far the clock jumped back, until a frame stamped after the jump arrives. */
  #jumpedBack: { readonly byMs: number; readonly toMs: number } | undefined;
  /** Counts backward jumps: a result whose inference began before one is from a world that is gone. */
  #epoch = 0;
  #counts = { received: 0, processed: 0, dropped: 0, rejected: 0, late: 0 };

  private constructor(options: SteeringNodeOptions) {
    const p = options.params;
    this.#node = options.node;
    this.#engine = options.engine;
    this.#p = p;
    this.#pre = createPreprocessor(options.inputSpec);
    this.#input = new Float32Array(this.#pre.outputLength);
    this.#modelVersion = options.modelVersion;
    this.#health = freshHealth(options.modelVersion, options.node.clock.now());
    this.#log = options.log ?? ((line) => console.error(`[${options.node.name}] ${line}`));
    this.#enabled = p.autonomous_on_start;
    this.#shaping = {
      steeringGain: p.steering_gain,
      steeringSign: p.steering_sign,
      steeringOffset: p.steering_offset,
      smoothing: p.smoothing,
      maxAngularRate: p.max_angular_rate,
      cruiseSpeed: p.cruise_speed,
      turnSlowdown: p.turn_slowdown,
      maxLinearAccel: p.max_linear_accel,
      maxAngularAccel: p.max_angular_accel,
    };
    this.#watch = {
      maxFrameAgeMs: p.max_frame_age_ms,
      inferenceDeadlineMs: p.inference_deadline_ms,
      futureToleranceMs: p.future_tolerance_ms,
    };
    const node = this.#node;
    if (p.use_stamped) {
      const pub = node.createPublisher('geometry_msgs/msg/TwistStamped', p.cmd_vel_topic, QOS_COMMANDS);
      // Stamped with the time of the camera frame the command was computed from (the time of
      // the data it acts on), so consumers can judge its age as the watchdog does.
      this.#publishCmd = (twist, stampMs) =>
        pub.publish({ header: { stamp: timeFromMs(stampMs), frame_id: 'base_link' }, twist });
    } else {
      const pub = node.createPublisher('geometry_msgs/msg/Twist', p.cmd_vel_topic, QOS_COMMANDS);
      this.#publishCmd = (twist) => pub.publish(twist);
    }
    this.#steeringPub = node.createPublisher('std_msgs/msg/Float32', p.steering_topic, QOS_STATUS);
    const diagnostics = node.createPublisher(
      'diagnostic_msgs/msg/DiagnosticArray',
      p.diagnostics_topic,
      QOS_STATUS,
    );
    if (p.compressed) {
      node.createSubscription(
        'sensor_msgs/msg/CompressedImage',
        `${p.camera_topic}/compressed`,
        QOS_SENSOR_DATA,
        (msg) => this.#onFrame({ kind: 'compressed', msg }),
      );
    } else {
      node.createSubscription('sensor_msgs/msg/Image', p.camera_topic, QOS_SENSOR_DATA, (msg) =>
        this.#onFrame({ kind: 'raw', msg }),
      );
    }
    node.createSubscription('std_msgs/msg/Bool', p.enable_topic, QOS_LATCHED, (msg) =>
      this.#setEnabled(msg.data),
    );
    this.#lastTick = node.clock.now();
    this.#cancel.push(node.clock.onJump((jump) => this.#onJump(jump)));
    this.#cancel.push(node.clock.every(1000 / p.control_rate_hz, () => this.#tick()));
    this.#cancel.push(
      node.clock.every(1000 / p.diagnostics_rate_hz, () =>
        diagnostics.publish({
          header: { stamp: timeFromMs(node.clock.now()), frame_id: '' },
          status: [this.#diagnostic()],
        }),
      ),
    );
  }

  static create(options: SteeringNodeOptions): SteeringNode {
    return new SteeringNode(options);
  }

  #setEnabled(on: boolean): void {
    if (on === this.#enabled) return;
    this.#enabled = on;
    this.#log(on ? 'autonomous driving enabled' : 'autonomous driving disabled: stopping');
    this.#tick();
  }

  #onFrame(frame: Frame): void {
    this.#counts.received += 1;
    if (this.#busySince !== undefined) {
      // Latest frame wins: a waiting frame is replaced, never queued behind.
      if (this.#pending !== undefined) this.#counts.dropped += 1;
      this.#pending = frame;
      return;
    }
    this.#startInference(frame);
  }

  #startInference(frame: Frame): void {
    const run = this.#infer(frame);
    this.#inflight = run;
    void run.finally(() => {
      if (this.#inflight === run) this.#inflight = undefined;
    });
  }

  /**
   * Drives with `next` from the next frame on and resolves with the engine it replaces, once no
   * inference runs on that engine any more (the caller disposes of it). `next` must be warm:
   * the frame after the swap runs on it at once. An inference in flight finishes on the old
   * engine and its result is used, so the swap itself drops no frame.
   */
  async swapModel(next: SteeringModel): Promise<SteeringEngine> {
    const old = this.#engine;
    const pre = createPreprocessor(next.inputSpec);
    this.#engine = next.engine;
    this.#pre = pre;
    this.#input = new Float32Array(pre.outputLength);
    this.#modelVersion = next.modelVersion;
    this.#health = freshHealth(next.modelVersion, this.#node.clock.now());
    this.#inferenceMs = new Window(128);
    this.#recentSteering = [];
    this.#log(`model swapped to ${next.modelVersion} (${next.engine.description})`);
    // Only the inference in flight now uses the old engine; every later one starts on `next`.
    await this.#inflight;
    return old;
  }

  /** The current model's record since it started serving. */
  modelHealth(): ModelHealth {
    const p99 = this.#inferenceMs.percentile(0.99);
    return {
      ...this.#health,
      inferenceP99Ms: Number.isFinite(p99) ? p99 : undefined,
      jitter: jitterOf(this.#recentSteering),
    };
  }

  get modelVersion(): string {
    return this.#modelVersion;
  }

  /** The engine driving now (after a swap, not the one the node was created with). */
  get engine(): SteeringEngine {
    return this.#engine;
  }

  #onJump(jump: TimeJump): void {
    const now = this.#node.clock.now();
    // Shaping measures dt between results and ticks: a jump is not time that passed, so the
    // acceleration limits restart from here instead of seeing one huge (or negative) step.
    this.#lastTick = now;
    this.#lastShapedAt = undefined;
    if (jump.kind === 'backward') {
      this.#epoch += 1;
      this.#jumpedBack = { byMs: jump.fromMs - jump.toMs, toMs: jump.toMs };
      this.#lastCommandStamp = undefined;
      this.#pending = undefined;
      this.#shape = initialShapingState();
      this.#log(
        `clock jumped back ${(jump.fromMs - jump.toMs).toFixed(0)} ms (to ${(jump.toMs / 1000).toFixed(3)} s)`,
      );
    } else if (jump.kind === 'started') {
      this.#log(`clock started at ${(jump.toMs / 1000).toFixed(3)} s`);
    }
    this.#evaluate(now);
  }

  async #infer(frame: Frame): Promise<void> {
    const clock = this.#node.clock;
    const started = clock.now();
    const epoch = this.#epoch;
    this.#busySince = started;
    // The model as it is when the frame starts: a swap meanwhile applies from the next frame.
    const engine = this.#engine;
    const pre = this.#pre;
    const input = this.#input;
    const health = this.#health;
    try {
      if (frame.kind === 'raw') pre.fromRaw(frame.msg, input);
      else await pre.fromCompressed(frame.msg, input);
      const inferStart = clock.now();
      const steering = await engine.runOne(input);
      if (health === this.#health) this.#inferenceMs.add(clock.now() - inferStart);
      if (epoch === this.#epoch) this.#onResult(frame, steering, started, health);
    } catch (error) {
      if (error instanceof FrameError) {
        this.#counts.rejected += 1;
        if (this.#counts.rejected <= 3 || this.#counts.rejected % 100 === 0) {
          this.#log(`skipped frame ${this.#counts.rejected}: ${error.message}`);
        }
      } else {
        this.#lastFailed = true;
        // Rate-limited like bad frames: an engine that fails on every frame must not flood the log.
        this.#inferenceFailures += 1;
        if (health === this.#health) health.inferenceFailures += 1;
        if (this.#inferenceFailures <= 3 || this.#inferenceFailures % 100 === 0) {
          const reason = error instanceof Error ? error.message : String(error);
          this.#log(`inference failed (${this.#inferenceFailures} so far): ${reason}`);
        }
      }
    } finally {
      this.#busySince = undefined;
      const next = this.#pending;
      this.#pending = undefined;
      if (next !== undefined) this.#startInference(next);
    }
  }

  #onResult(frame: Frame, steering: number, started: number, health: MutableHealth): void {
    const now = this.#node.clock.now();
    const current = health === this.#health;
    if (now - started > this.#p.inference_deadline_ms) {
      this.#counts.late += 1; // driving on it would act on an old view of the world
      if (current) health.late += 1;
      return;
    }
    this.#lastFailed = false;
    this.#counts.processed += 1;
    if (current) {
      health.processed += 1;
      this.#recentSteering.push(steering);
      if (this.#recentSteering.length > JITTER_WINDOW) this.#recentSteering.shift();
    }
    this.#completions.add(now);
    const stamp = timeToMs(frame.msg.header.stamp);
    this.#lastCommandStamp = stamp;
    if (this.#jumpedBack !== undefined && stamp >= this.#jumpedBack.toMs) this.#jumpedBack = undefined;
    this.#steeringPub.publish({ data: steering });
    const dt = this.#lastShapedAt === undefined ? 0 : (now - this.#lastShapedAt) / 1000;
    this.#lastShapedAt = now;
    this.#shape = shapeCommand({ ...this.#shape, command: this.#output }, steering, dt, this.#shaping);
    this.#evaluate(now);
    if (this.#verdict.drive) {
      this.#output = this.#shape.command;
      this.#publishCmd(this.#output, stamp);
      this.#latency.add(now - stamp);
    }
  }

  #evaluate(now: number): void {
    const verdict = judge(
      {
        now,
        clockStarted: this.#node.clock.started,
        clockJumpedBackMs: this.#jumpedBack?.byMs,
        enabled: this.#enabled,
        lastCommandFrameStamp: this.#lastCommandStamp,
        inferenceStartedAt: this.#busySince,
        lastInferenceFailed: this.#lastFailed,
      },
      this.#watch,
    );
    if (
      verdict.drive !== this.#verdict.drive ||
      (!verdict.drive && !this.#verdict.drive && verdict.reason !== this.#verdict.reason)
    ) {
      if (verdict.drive) this.#log('watchdog: fresh frames, driving');
      else this.#log(`watchdog: stopping: ${verdict.detail}`);
      if (!verdict.drive && MODEL_FAULTS.has(verdict.reason)) this.#health.watchdogStops += 1;
      this.#rampFrom = verdict.drive ? undefined : this.#output;
      if (!verdict.drive && CLOCK_FAULTS.has(verdict.reason) && this.#isMoving()) {
        // The stop ramp is timed on the node clock, the very thing in doubt: a clock that
        // stopped would never finish it, one that jumped makes its steps meaningless. Stop now.
        this.#output = zeroTwist();
        this.#shape = { smoothed: this.#shape.smoothed, command: this.#output };
        this.#publishCmd(this.#output, this.#lastCommandStamp ?? now);
      }
    }
    this.#verdict = verdict;
  }

  /** Control tick: the watchdog runs even when no frame arrives, and stops the robot. */
  #tick(): void {
    const now = this.#node.clock.now();
    const dt = Math.max(0, (now - this.#lastTick) / 1000);
    this.#lastTick = now;
    this.#evaluate(now);
    if (!this.#verdict.drive) {
      this.#output = rampToZero(this.#output, this.#rampFrom ?? this.#output, this.#p.stop_ramp_s, dt);
      this.#shape = { smoothed: this.#shape.smoothed, command: this.#output };
      this.#lastShapedAt = undefined;
    }
    // Keep-alive: downstream (the motor bridge) treats silence as a fault.
    this.#publishCmd(this.#output, this.#lastCommandStamp ?? now);
  }

  #isMoving(): boolean {
    return this.#output.linear.x !== 0 || this.#output.angular.z !== 0;
  }

  stats(): SteeringStats {
    const now = this.#node.clock.now();
    const recent = this.#completions;
    const fps = recent.count < 2 ? 0 : ((recent.count - 1) * 1000) / Math.max(1, now - recent.percentile(0));
    const moving = this.#isMoving();
    return {
      ...this.#counts,
      latencyP50Ms: this.#latency.percentile(0.5),
      latencyP99Ms: this.#latency.percentile(0.99),
      fps,
      state: this.#verdict.drive ? 'driving' : moving ? 'stopping' : 'stopped',
      reason: this.#verdict.drive ? undefined : this.#verdict.reason,
      detail: this.#verdict.drive ? 'driving' : this.#verdict.detail,
    };
  }

  get output(): Twist {
    return this.#output;
  }

  #diagnostic() {
    const s = this.stats();
    const level =
      s.state === 'driving'
        ? DiagnosticLevel.OK
        : s.reason === 'disabled' || s.reason === 'no_frames' || s.reason === 'clock_not_started'
          ? DiagnosticLevel.WARN
          : DiagnosticLevel.ERROR;
    const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
    return {
      level,
      name: `${this.#node.name}: steering`,
      message: s.detail,
      hardware_id: this.#engine.description,
      values: [
        { key: 'fps', value: f(s.fps) },
        { key: 'latency_p50_ms', value: f(s.latencyP50Ms) },
        { key: 'latency_p99_ms', value: f(s.latencyP99Ms) },
        { key: 'frames_received', value: String(s.received) },
        { key: 'frames_dropped', value: String(s.dropped) },
        { key: 'frames_rejected', value: String(s.rejected) },
        { key: 'results_late', value: String(s.late) },
        { key: 'model_version', value: this.#modelVersion },
        { key: 'watchdog', value: s.state },
      ],
    };
  }

  /** Stops: a last zero command first, so the robot never keeps the last velocity. */
  destroy(): void {
    for (const c of this.#cancel.splice(0)) c();
    this.#output = initialShapingState().command;
    this.#publishCmd(this.#output, this.#node.clock.now());
    this.#node.destroy();
  }
}

/** Stops the model is to blame for (probation counts these, not a disabled or parked robot). */
const MODEL_FAULTS: ReadonlySet<StopReason> = new Set(['inference_deadline', 'inference_error']);

interface MutableHealth {
  model: string;
  sinceMs: number;
  processed: number;
  inferenceFailures: number;
  late: number;
  watchdogStops: number;
}

function freshHealth(model: string, sinceMs: number): MutableHealth {
  return { model, sinceMs, processed: 0, inferenceFailures: 0, late: 0, watchdogStops: 0 };
}

export interface SteeringNodeOptions {
  readonly node: NodeHandle;
  readonly engine: SteeringEngine;
  readonly inputSpec: InputSpec;
  readonly params: SteeringParams;
  readonly modelVersion: string;
  readonly log?: (line: string) => void;
}
