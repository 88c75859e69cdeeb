// The steering node on the embedded bus with simulated time (ManualClock, or /clock with
// use_sim_time) and the real ONNX engine: stale frames, stalls, bursts, clock jumps, a clock
// that starts late or stops, resume, corrupt frames.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SteeringEngine } from '../../models/src/engine/engine.ts';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import { exportFadnetOnnx } from '../../models/src/onnx/export.ts';
import { weightsFromSafetensors } from '../../models/src/weights/weight-set.ts';
import {
  EmbeddedBus,
  ManualClock,
  QOS_CLOCK_PUBLISHER,
  QOS_LATCHED,
  QOS_SENSOR_DATA,
  resolveParameters,
  timeFromMs,
  type Image,
  type Twist,
} from '../../nodes/runtime/index.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from '../../nodes/steering/params.ts';
import { SteeringNode } from '../../nodes/steering/steering-node.ts';
import { loadFixture } from '../helpers/fixture.ts';
import { until } from '../helpers/until.ts';

/** The real engine, with the option to hold the next inference (a stalled accelerator). */
class StallableEngine implements SteeringEngine {
  readonly description: string;
  #release: (() => void) | undefined;
  #stallNext = false;
  /** Frames left to fail, and how many have failed. */
  #failing = 0;
  failed = 0;
  constructor(readonly inner: SteeringEngine) {
    this.description = inner.description;
  }
  stallNext(): void {
    this.#stallNext = true;
  }
  release(): void {
    this.#release?.();
    this.#release = undefined;
  }
  run(batch: Float32Array, n: number): Promise<Float32Array> {
    return this.inner.run(batch, n);
  }
  failNext(frames: number): void {
    this.#failing = frames;
  }
  async runOne(frame: Float32Array): Promise<number> {
    if (this.#failing > 0) {
      this.#failing -= 1;
      this.failed += 1;
      throw new Error('device lost');
    }
    if (this.#stallNext) {
      this.#stallNext = false;
      await new Promise<void>((resolve) => (this.#release = resolve));
    }
    return this.inner.runOne(frame);
  }
  dispose(): Promise<void> {
    return this.inner.dispose();
  }
}

let engine: StallableEngine;
beforeAll(async () => {
  const onnx = exportFadnetOnnx(weightsFromSafetensors(loadFixture().weightsBytes));
  engine = new StallableEngine(await OnnxEngine.create({ onnx, config: { warmupRuns: 2 }, log: () => {} }));
});
afterAll(async () => {
  await engine.dispose();
});

function frame(stampMs: number, shade = 0): Image {
  const data = new Uint8Array(640 * 480 * 3);
  for (let i = 0; i < data.length; i++) data[i] = ((i >> 4) + shade) & 0xff;
  return {
    header: { stamp: timeFromMs(stampMs), frame_id: 'camera' },
    height: 480,
    width: 640,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: 1920,
    data,
  };
}

/** Time as the tests step it: a ManualClock, or a simulator publishing /clock. */
interface TestClock {
  now(): number;
  advance(ms: number): void;
  jump(ms: number): void;
}

/** Publishes each new time on /clock as Gazebo does; nothing is sent before `start()`. */
class ClockPublisher implements TestClock {
  #now = 1_000_000;
  constructor(readonly publish: (ms: number) => void) {}
  now(): number {
    return this.#now;
  }
  start(): void {
    this.publish(this.#now);
  }
  advance(ms: number): void {
    this.#now += ms;
    this.publish(this.#now);
  }
  jump(ms: number): void {
    this.advance(ms);
  }
}

interface Rig {
  clock: TestClock;
  bus: EmbeddedBus;
  node: SteeringNode;
  cmds: Twist[];
  logs: string[];
  send: (img: Image) => void;
  enable: (on: boolean) => void;
}

function rig(overrides: Record<string, unknown> = {}): Rig {
  const manual = new ManualClock(1_000_000);
  // With use_sim_time the bus keeps the system clock: the node's time comes from /clock alone.
  const bus = new EmbeddedBus(overrides['use_sim_time'] === true ? {} : { clock: manual });
  const params = resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
    {
      name: 'test',
      values: {
        steering_gain: 20,
        max_angular_accel: 100,
        max_linear_accel: 20,
        smoothing: 1,
        ...overrides,
      },
    },
  ]);
  const logs: string[] = [];
  const node = SteeringNode.create({
    node: bus.createNode(STEERING_NODE_NAME, { useSimTime: params.use_sim_time }),
    engine,
    inputSpec: FADNET_INPUT_SPEC,
    params,
    modelVersion: 'fixture',
    log: (l) => logs.push(l),
  });
  const io = bus.createNode('test_io');
  const cmds: Twist[] = [];
  io.createSubscription(
    'geometry_msgs/msg/Twist',
    '/cmd_vel',
    { reliability: 'reliable', history: 'keep_last', depth: 1000, durability: 'volatile' },
    (m) => cmds.push(m),
  );
  const cam = io.createPublisher('sensor_msgs/msg/Image', params.camera_topic, QOS_SENSOR_DATA);
  const en = io.createPublisher('std_msgs/msg/Bool', params.enable_topic, QOS_LATCHED);
  const clockPub = io.createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER);
  return {
    clock: params.use_sim_time
      ? new ClockPublisher((ms) => clockPub.publish({ clock: timeFromMs(ms) }))
      : manual,
    bus,
    node,
    cmds,
    logs,
    send: (img) => cam.publish(img),
    enable: (on) => en.publish({ data: on }),
  };
}

/** Sends frames `periodMs` apart, frame i stamped `ageMs(i)` before it is sent. */
async function drive(r: Rig, frames: number, periodMs = 33, ageMs = (_i: number) => 0): Promise<void> {
  for (let i = 0; i < frames; i++) {
    const before = r.node.stats().processed + r.node.stats().late;
    r.send(frame(r.clock.now() - ageMs(i), i));
    await until('inference', () => r.node.stats().processed + r.node.stats().late > before);
    r.clock.advance(periodMs);
    await r.bus.flush();
  }
}

const moving = (t: Twist | undefined): boolean => t !== undefined && (t.linear.x !== 0 || t.angular.z !== 0);

describe('steering node', () => {
  let r: Rig;
  beforeEach(() => {
    r = rig();
  });

  it('publishes zero commands until enabled, then drives on fresh frames', async () => {
    await drive(r, 3);
    expect(r.cmds.length).toBeGreaterThan(0);
    expect(r.cmds.every((t) => !moving(t))).toBe(true);
    expect(r.node.stats().reason).toBe('disabled');
    r.enable(true);
    await r.bus.flush();
    await drive(r, 5);
    expect(r.node.stats().state).toBe('driving');
    expect(r.cmds.at(-1)!.linear.x).toBeGreaterThan(0);
    expect(r.logs).toContain('autonomous driving enabled');
    r.node.destroy();
  });

  it('steering sign flips the turn direction', async () => {
    const a = rig({ autonomous_on_start: true });
    const b = rig({ autonomous_on_start: true, steering_sign: -1 });
    await drive(a, 3);
    await drive(b, 3);
    expect(a.node.output.angular.z).not.toBe(0);
    expect(b.node.output.angular.z).toBeCloseTo(-a.node.output.angular.z, 9);
    a.node.destroy();
    b.node.destroy();
  });

  it('stops within the ramp time when frames go stale, then publishes zero until fresh frames return', async () => {
    r = rig({ autonomous_on_start: true, stop_ramp_s: 0.3, control_rate_hz: 50 });
    await drive(r, 5);
    expect(moving(r.node.output)).toBe(true);
    // The camera goes silent: the watchdog notices after max_frame_age, then ramps down.
    r.clock.advance(200 - 33 + 20);
    expect(r.node.stats().reason).toBe('stale_frame');
    r.clock.advance(300);
    await r.bus.flush();
    expect(r.node.output).toEqual({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    const count = r.cmds.length;
    r.clock.advance(100);
    await r.bus.flush();
    expect(r.cmds.length).toBeGreaterThan(count); // zero Twist keeps being published
    expect(r.cmds.slice(count).every((t) => !moving(t))).toBe(true);
    expect(r.logs.some((l) => /^watchdog: stopping: newest frame is \d+ ms old, limit 200 ms$/.test(l))).toBe(
      true,
    );
    // Resume.
    await drive(r, 3);
    expect(r.node.stats().state).toBe('driving');
    expect(r.logs).toContain('watchdog: fresh frames, driving');
    r.node.destroy();
  });

  it('never drives on frames that arrive already stale', async () => {
    r = rig({ autonomous_on_start: true });
    for (let i = 0; i < 3; i++) {
      const before = r.node.stats().processed;
      r.send(frame(r.clock.now() - 500, i));
      await until('inference', () => r.node.stats().processed > before);
      r.clock.advance(33);
    }
    await r.bus.flush();
    expect(r.cmds.every((t) => !moving(t))).toBe(true);
    r.node.destroy();
  });

  it('stops when inference misses its deadline and discards the late result', async () => {
    r = rig({ autonomous_on_start: true, inference_deadline_ms: 100 });
    await drive(r, 3);
    engine.stallNext();
    r.send(frame(r.clock.now(), 9));
    await r.bus.flush();
    r.clock.advance(120); // simulated time passes while the accelerator hangs
    expect(r.node.stats().reason).toBe('inference_deadline');
    r.clock.advance(400);
    expect(moving(r.node.output)).toBe(false);
    engine.release();
    await until('late result', () => r.node.stats().late === 1);
    expect(moving(r.node.output)).toBe(false);
    r.node.destroy();
  });

  it('latest frame wins: a burst during inference is dropped, not queued', async () => {
    r = rig({ autonomous_on_start: true });
    engine.stallNext();
    r.send(frame(r.clock.now(), 1));
    await r.bus.flush();
    for (let i = 0; i < 10; i++) {
      r.send(frame(r.clock.now(), 10 + i));
      await r.bus.flush(); // each arrives while the first inference is held
    }
    engine.release();
    await until('two inferences', () => r.node.stats().processed === 2);
    await new Promise((res) => setTimeout(res, 20));
    expect(r.node.stats()).toMatchObject({ received: 11, processed: 2, dropped: 9 });
    r.node.destroy();
  });

  it('stops at once when the clock jumps back, forgets the old world, drives again on frames from after the jump', async () => {
    r = rig({ autonomous_on_start: true });
    await drive(r, 3);
    expect(moving(r.node.output)).toBe(true);
    engine.stallNext();
    r.send(frame(r.clock.now(), 9)); // in flight across the jump
    await r.bus.flush();
    r.clock.jump(-2000); // a simulator reset: time steps back 2 s
    // No ramp: the ramp is timed on the clock that just jumped.
    expect(r.node.output).toEqual({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    expect(r.node.stats()).toMatchObject({
      reason: 'clock_jumped_back',
      detail: 'the clock jumped back 2000 ms; waiting for a frame stamped after the jump',
    });
    expect(r.logs).toContain('clock jumped back 2000 ms (to 998.099 s)');
    engine.release();
    const processed = r.node.stats().processed;
    await new Promise((res) => setTimeout(res, 20));
    expect(r.node.stats().processed).toBe(processed); // computed before the jump: discarded
    r.clock.advance(400);
    await r.bus.flush();
    expect(r.node.stats().reason).toBe('clock_jumped_back');
    expect(r.cmds.at(-1)).toEqual({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    await drive(r, 3);
    expect(r.node.stats().state).toBe('driving');
    r.node.destroy();
  });

  it('stops at once on frames stamped ahead of its clock (a clock jump it was not told of)', async () => {
    r = rig({ autonomous_on_start: true });
    await drive(r, 3);
    r.send(frame(r.clock.now() + 2000, 7));
    await until('inference', () => r.node.stats().processed === 4);
    expect(r.node.stats().reason).toBe('frame_from_future');
    expect(moving(r.node.output)).toBe(false);
    await drive(r, 3);
    expect(r.node.stats().state).toBe('driving');
    r.node.destroy();
  });

  it('skips a corrupt frame, counts it and keeps going', async () => {
    r = rig({ autonomous_on_start: true });
    const bad = { ...frame(r.clock.now()), data: new Uint8Array(100) };
    r.send(bad);
    await until('rejection', () => r.node.stats().rejected === 1);
    expect(r.logs[0]).toBe('skipped frame 1: frame 640x480 rgb8 has 100 bytes, expected at least 921600');
    await drive(r, 2);
    expect(r.node.stats().processed).toBe(2);
    r.node.destroy();
  });

  it('logs inference failures rate-limited, as it does bad frames', async () => {
    r = rig({ autonomous_on_start: true });
    const start = engine.failed;
    engine.failNext(150);
    for (let i = 1; i <= 150; i++) {
      r.send(frame(r.clock.now(), i));
      await until('failure', () => engine.failed === start + i);
      r.clock.advance(33);
      await r.bus.flush();
    }
    expect(r.logs.filter((l) => l.startsWith('inference failed'))).toEqual([
      'inference failed (1 so far): device lost',
      'inference failed (2 so far): device lost',
      'inference failed (3 so far): device lost',
      'inference failed (100 so far): device lost',
    ]);
    await drive(r, 1);
    expect(r.node.stats().processed).toBe(1);
    r.node.destroy();
  });

  it('publishes diagnostics at 1 Hz with fps, latency, drops, model version and watchdog state', async () => {
    r = rig({ autonomous_on_start: true });
    const diags: { level: number; values: { key: string; value: string }[] }[] = [];
    r.bus
      .createNode('diag')
      .createSubscription(
        'diagnostic_msgs/msg/DiagnosticArray',
        '/diagnostics',
        { reliability: 'reliable', history: 'keep_last', depth: 10, durability: 'volatile' },
        (m) => diags.push(m.status[0]!),
      );
    // The clock stands still during inference, so each frame's latency is exactly its age:
    // 0, 5, ..., 45 ms, 0 four times and the others three times in 31 frames.
    await drive(r, 31, 33, (i) => (i % 10) * 5);
    await r.bus.flush();
    expect(diags.length).toBe(1);
    const values = Object.fromEntries(diags[0]!.values.map((v) => [v.key, v.value]));
    expect(values['model_version']).toBe('fixture');
    expect(values['watchdog']).toBe('driving');
    expect(Number(values['fps'])).toBeGreaterThan(25);
    expect(values['latency_p50_ms']).toBe('20.00');
    expect(values['latency_p99_ms']).toBe('45.00');
    expect(values['frames_received']).toBe('31');
    expect(values['frames_dropped']).toBe('0');
    expect(diags[0]!.level).toBe(0);
    r.node.destroy();
  });
});

describe('steering node with use_sim_time (time from /clock)', () => {
  const simRig = (): Rig & { clock: ClockPublisher } => {
    const r = rig({ autonomous_on_start: true, use_sim_time: true });
    if (!(r.clock instanceof ClockPublisher)) throw new Error('use_sim_time rig without /clock');
    return r as Rig & { clock: ClockPublisher };
  };

  it('never drives and sends nothing before /clock starts, then drives on frames in sim time', async () => {
    const r = simRig();
    r.send(frame(r.clock.now())); // the camera is up before the simulator's clock
    await until('inference', () => r.node.stats().processed === 1);
    await r.bus.flush();
    expect(r.node.stats()).toMatchObject({
      reason: 'clock_not_started',
      detail: 'the node clock has not started (use_sim_time: no /clock message yet)',
    });
    expect(r.cmds).toEqual([]); // its timers run on sim time, which has not begun
    r.clock.start();
    await r.bus.flush();
    expect(r.logs).toContain('clock started at 1000.000 s');
    await drive(r, 5);
    expect(r.node.stats().state).toBe('driving');
    expect(moving(r.cmds.at(-1))).toBe(true);
    r.node.destroy();
  });

  it('stands still with the paused simulator when /clock stops, and stops at once on frames from past its clock', async () => {
    const r = simRig();
    r.clock.start();
    await r.bus.flush();
    await drive(r, 5);
    const sent = r.cmds.length;
    const output = r.node.output;
    expect(moving(output)).toBe(true);
    await new Promise((res) => setTimeout(res, 60)); // wall time passes, sim time does not
    await r.bus.flush();
    expect(r.cmds.length).toBe(sent); // no control ticks: the node is paused with the world
    expect(r.node.output).toBe(output);
    // The camera runs on while /clock has stopped: its frames are stamped past the node's time.
    r.send(frame(r.clock.now() + 500, 3));
    await until('inference', () => r.node.stats().processed === 6);
    await r.bus.flush();
    expect(r.node.stats().reason).toBe('frame_from_future');
    expect(r.cmds.at(-1)).toEqual({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    r.node.destroy();
  });

  it('stops at once when /clock jumps back (a simulator reset) and drives again on frames after it', async () => {
    const r = simRig();
    r.clock.start();
    await r.bus.flush();
    await drive(r, 5);
    r.clock.jump(-30_000);
    await r.bus.flush();
    expect(r.node.stats().reason).toBe('clock_jumped_back');
    expect(r.cmds.at(-1)).toEqual({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });
    expect(r.logs).toContain('clock jumped back 30000 ms (to 970.165 s)');
    await drive(r, 3);
    expect(r.node.stats().state).toBe('driving');
    r.node.destroy();
  });
});
