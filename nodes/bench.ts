// `fadnet bench nodes`: camera frame published on the embedded bus -> steering node (ONNX) ->
// TwistStamped received, at the camera's 30 Hz and at the maximum rate a publisher can reach.
import { OnnxEngine } from '../models/src/engine/onnx-engine.ts';
import { FADNET_INPUT_SPEC } from '../models/src/input-spec.ts';
import { exportFadnetOnnx } from '../models/src/onnx/export.ts';
import { initialWeights } from '../models/src/weights/weight-set.ts';
import { syntheticFrames } from '../models/bench/inference.ts';
import { numberArg, parseCommandArgs, round3, summarise } from '../common/index.ts';
import {
  EmbeddedBus,
  QOS_COMMANDS,
  QOS_SENSOR_DATA,
  resolveParameters,
  timeFromMs,
  timeToMs,
  type Image,
} from './runtime/index.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from './steering/params.ts';
import { SteeringNode } from './steering/steering-node.ts';

// The inference benchmark's frames, as camera messages: the two benchmarks see the same pixels.
function frames(): Image[] {
  return syntheticFrames(8).map((img) => ({
    ...img,
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'camera' },
  }));
}

interface RunResult {
  p50_ms: number;
  p99_ms: number;
  received: number;
  dropped: number;
  published: number;
}

async function run(rateHz: number | 'max', durationMs: number, engine: OnnxEngine): Promise<RunResult> {
  const bus = new EmbeddedBus();
  const params = resolveParameters(STEERING_NODE_NAME, STEERING_PARAMS, [
    // Keep-alive ticks are slowed so nearly every command the bench sees answers a frame.
    {
      name: 'bench',
      values: { autonomous_on_start: true, use_stamped: true, control_rate_hz: 1, max_frame_age_ms: 10_000 },
    },
  ]);
  const node = SteeringNode.create({
    node: bus.createNode(STEERING_NODE_NAME),
    engine,
    inputSpec: FADNET_INPUT_SPEC,
    params,
    modelVersion: 'bench',
    log: () => {},
  });
  const io = bus.createNode('bench_io');
  const cam = io.createPublisher('sensor_msgs/msg/Image', params.camera_topic, QOS_SENSOR_DATA);
  const seen = new Set<number>();
  const latencies: number[] = [];
  io.createSubscription('geometry_msgs/msg/TwistStamped', params.cmd_vel_topic, QOS_COMMANDS, (m) => {
    const stamp = timeToMs(m.header.stamp);
    if (seen.has(stamp)) return; // a keep-alive repeat of an already answered frame
    seen.add(stamp);
    latencies.push(bus.clock.now() - stamp);
  });
  const imgs = frames();
  let published = 0;
  const end = performance.now() + durationMs;
  // Stamps are the publish time itself: latency = Twist received - frame published.
  const publish = (): void => {
    const img = imgs[published % imgs.length]!;
    const stampNow = bus.clock.now();
    cam.publish({ ...img, header: { ...img.header, stamp: timeFromMs(stampNow) } });
    published += 1;
  };
  // 'max' is a 1 kHz camera, faster than any inference: when the process is busy, the frames
  // that fell due meanwhile are all published at once, as a driver thread would deliver them.
  const period = rateHz === 'max' ? 1 : 1000 / rateHz;
  let next = performance.now();
  while (performance.now() < end) {
    do {
      publish();
      next += period;
    } while (next <= performance.now());
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await new Promise((r) => setTimeout(r, 100));
  const stats = node.stats();
  // Frames replaced before delivery (the bus's keep-last-1 camera queue) or while inference
  // ran (the node's latest-frame-wins slot) are both drops: neither ever queues.
  const busDropped = bus.topics().get(params.camera_topic)?.dropped ?? 0;
  node.destroy();
  await bus.shutdown();
  const s = summarise(latencies.slice(5)); // the first frames pay for warm-up
  return {
    p50_ms: round3(s.p50),
    p99_ms: round3(s.p99),
    received: latencies.length,
    dropped: stats.dropped + busDropped,
    published,
  };
}

export async function benchNodesCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
  });
  if (parsed.help) return 0; // the dispatcher prints the bench's usage
  const { values } = parsed;
  const ms = numberArg('--seconds', values.seconds, { above: 0 }) * 1000;
  const engine = await OnnxEngine.create({
    onnx: exportFadnetOnnx(initialWeights(1)),
    config: { warmupRuns: 50 },
    log: values.json ? () => {} : console.error,
  });
  const at30 = await run(30, ms, engine);
  const atMax = await run('max', ms / 2, engine);
  await engine.dispose();
  if (values.json) {
    console.log(JSON.stringify({ ...at30, max_rate: atMax }));
  } else {
    console.log(
      `30 Hz:  frame -> /cmd_vel p50 ${at30.p50_ms} ms  p99 ${at30.p99_ms} ms  (${at30.received} commands, ${at30.published} frames, ${at30.dropped} dropped)`,
    );
    console.log(
      `max:    frame -> /cmd_vel p50 ${atMax.p50_ms} ms  p99 ${atMax.p99_ms} ms  (${atMax.received} commands, ${atMax.published} frames, ${atMax.dropped} dropped: latest frame wins, no backlog)`,
    );
  }
  return 0;
}

// `fadnet bench silo-steering` measures the same path with fleet training beside it.
export { run as benchSteeringRate };
export type { RunResult as SteeringRateResult };
