// The steering node's hot swap, in simulated time on the embedded bus, with engines whose every
// inference the test releases: a frame in flight at the swap finishes on the old engine and is
// used, the next frame runs on the new one, the old engine is handed back only when idle, and no
// frame is dropped. Then the health record the OTA agent's probation reads.
import { describe, expect, it } from 'vitest';
import type { SteeringEngine } from '../../models/src/engine/engine.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import {
  EmbeddedBus,
  ManualClock,
  QOS_SENSOR_DATA,
  QOS_STATUS,
  resolveParameters,
  timeFromMs,
  type Image,
} from '../../nodes/runtime/index.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from '../../nodes/steering/params.ts';
import { SteeringNode } from '../../nodes/steering/steering-node.ts';

/** An engine answering `value`, each inference held until the test releases it. */
class HeldEngine implements SteeringEngine {
  readonly #pending: (() => void)[] = [];
  runs = 0;
  disposed = false;
  constructor(
    readonly description: string,
    readonly value: number,
  ) {}
  async run(): Promise<Float32Array> {
    throw new Error('not used');
  }
  async runOne(): Promise<number> {
    if (this.disposed) throw new Error(`${this.description} used after dispose`);
    this.runs += 1;
    await new Promise<void>((resolve) => this.#pending.push(resolve));
    return this.value;
  }
  release(): void {
    this.#pending.shift()?.();
  }
  get waiting(): number {
    return this.#pending.length;
  }
  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

function frame(stampMs: number): Image {
  return {
    header: { stamp: timeFromMs(stampMs), frame_id: 'camera' },
    height: 480,
    width: 640,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: 1920,
    data: new Uint8Array(640 * 480 * 3).fill(90),
  };
}

async function settle(bus: EmbeddedBus): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await bus.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('steering node hot swap', () => {
  it('finishes the frame in flight on the old model, runs the next on the new, drops none', async () => {
    const clock = new ManualClock(1_000_000);
    const bus = new EmbeddedBus({ clock });
    const params = resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
      { name: 'test', values: { autonomous_on_start: true } },
    ]);
    const old = new HeldEngine('old', 0.25);
    const next = new HeldEngine('new', -0.5);
    const node = SteeringNode.create({
      node: bus.createNode(STEERING_NODE_NAME),
      engine: old,
      inputSpec: FADNET_INPUT_SPEC,
      params,
      modelVersion: 'fadnet-sim@1.1.0',
      log: () => {},
    });
    const world = bus.createNode('world');
    const camera = world.createPublisher('sensor_msgs/msg/Image', params.camera_topic, QOS_SENSOR_DATA);
    const steering: number[] = [];
    world.createSubscription('std_msgs/msg/Float32', params.steering_topic, QOS_STATUS, (m) =>
      steering.push(m.data),
    );

    camera.publish(frame(clock.now()));
    await settle(bus);
    expect(old.waiting).toBe(1);

    let handedBack: SteeringEngine | undefined;
    const swap = node
      .swapModel({ engine: next, inputSpec: FADNET_INPUT_SPEC, modelVersion: 'fadnet-sim@1.2.0' })
      .then((e) => (handedBack = e));
    clock.advance(10);
    camera.publish(frame(clock.now()));
    await settle(bus);
    // The old engine is still busy with frame 1: it is not handed back, frame 2 waits.
    expect({ handedBack, model: node.modelVersion, nextWaiting: next.waiting }).toEqual({
      handedBack: undefined,
      model: 'fadnet-sim@1.2.0',
      nextWaiting: 0,
    });

    old.release();
    await settle(bus);
    await swap;
    expect(handedBack).toBe(old);
    expect(next.waiting).toBe(1);
    next.release();
    await settle(bus);

    expect(steering).toEqual([0.25, -0.5]);
    expect({ oldRuns: old.runs, newRuns: next.runs }).toEqual({ oldRuns: 1, newRuns: 1 });
    const stats = node.stats();
    expect({ received: stats.received, processed: stats.processed, dropped: stats.dropped }).toEqual({
      received: 2,
      processed: 2,
      dropped: 0,
    });
    // Health counts the new model alone, from the swap on.
    expect(node.modelHealth()).toEqual({
      model: 'fadnet-sim@1.2.0',
      sinceMs: 1_000_000,
      processed: 1,
      inferenceFailures: 0,
      late: 0,
      watchdogStops: 0,
      inferenceP99Ms: 0,
      jitter: undefined,
    });
    node.destroy();
    await bus.shutdown();
  });
});
