// End-to-end inference benchmark: 640x480 rgb8 frames through preprocessing and the ONNX
// model on one thread, as the steering node runs them.
import { OnnxEngine } from '../src/engine/onnx-engine.ts';
import { FADNET_INPUT_SPEC } from '../src/input-spec.ts';
import { exportFadnetOnnx } from '../src/onnx/export.ts';
import { createPreprocessor, type RawImage } from '../src/preprocess/index.ts';
import { initialWeights } from '../src/weights/weight-set.ts';
import { readWeightsFile } from '../src/files.ts';
import {
  choiceArg,
  numberArg,
  optionalNumberArg,
  parseCommandArgs,
  progressBar,
  round3,
  summarise,
} from '../../common/index.ts';
import { PRECISIONS } from '../src/quantize/index.ts';
import { benchPackage, fixtureError, profileByOperator } from './precision-model.ts';

export function syntheticFrames(count: number): RawImage[] {
  // A few distinct frames with texture, so caches do not flatter the numbers.
  return Array.from({ length: count }, (_, k) => {
    const data = new Uint8Array(640 * 480 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + k * 97 + ((i / 1920) | 0) * 7) & 0xff;
    return { height: 480, width: 640, encoding: 'rgb8', is_bigendian: 0, step: 1920, data };
  });
}

export async function benchInferenceCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    frames: { type: 'string', default: '2000' },
    weights: { type: 'string' },
    threads: { type: 'string', default: '1' },
    // Paced like a camera (e.g. 30) instead of back to back: caches cool between frames.
    rate: { type: 'string' },
    // A model package of this precision (the shipped one unless --model names another).
    precision: { type: 'string' },
    model: { type: 'string' },
    // ONNX Runtime's per-operator profile of the model, printed after the timings.
    profile: { type: 'boolean', default: false },
  });
  if (parsed.help) return 0; // the dispatcher prints the bench's usage
  const { values } = parsed;
  const n = numberArg('--frames', values.frames, { integer: true, min: 1 });
  const threads = numberArg('--threads', values.threads, { integer: true, min: 1, max: 256 });
  const rate = optionalNumberArg('--rate', values.rate, { above: 0 });
  const weights = values.weights === undefined ? initialWeights(1) : await readWeightsFile(values.weights);
  const log = values.json ? () => {} : (line: string) => console.error(line);
  const precision =
    values.precision === undefined ? undefined : choiceArg('--precision', values.precision, PRECISIONS);
  const pkg = precision === undefined ? undefined : await benchPackage(precision, values.model);
  const onnx = pkg?.onnx ?? exportFadnetOnnx(weights);
  const engine = await OnnxEngine.create({
    onnx,
    ...(pkg === undefined ? {} : { precision: pkg.precision }),
    config: { intraOpThreads: threads, warmupRuns: 50 },
    log,
  });
  const pre = createPreprocessor(FADNET_INPUT_SPEC);
  const frames = syntheticFrames(8);
  const input = new Float32Array(200 * 200);
  const total: number[] = [];
  const prep: number[] = [];
  const model: number[] = [];
  const bar = values.json ? undefined : progressBar('bench inference [{bar}] {value}/{total} frames');
  bar?.start(n, 0);
  const periodMs = rate === undefined ? 0 : 1000 / rate;
  let next = performance.now();
  for (let i = 0; i < n + 50; i++) {
    if (periodMs > 0) {
      next += periodMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    const t0 = performance.now();
    pre.fromRaw(frames[i % frames.length]!, input);
    const t1 = performance.now();
    await engine.runOne(input);
    const t2 = performance.now();
    if (i >= 50) {
      prep.push(t1 - t0);
      model.push(t2 - t1);
      total.push(t2 - t0);
      if (i % 100 === 0) bar?.update(i - 50);
    }
  }
  bar?.update(n);
  bar?.stop();
  await engine.dispose();
  const t = summarise(total);
  const result = {
    p50_ms: round3(t.p50),
    p99_ms: round3(t.p99),
    fps: Math.round(1000 / t.mean),
    preprocess_p50_ms: round3(summarise(prep).p50),
    model_p50_ms: round3(summarise(model).p50),
    model_p99_ms: round3(summarise(model).p99),
    ...(pkg === undefined
      ? {}
      : {
          precision: pkg.precision,
          model: pkg.label,
          fixture_max_abs_error: await fixtureError(pkg.precision),
        }),
    frames: n,
    rate_hz: rate ?? 'back-to-back',
    engine: engine.description,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`frames            ${n} (640x480 rgb8 -> 1x1x200x200, ${engine.description})`);
    console.log(`end to end        p50 ${result.p50_ms} ms   p99 ${result.p99_ms} ms   ${result.fps} fps`);
    console.log(`  preprocessing   p50 ${result.preprocess_p50_ms} ms`);
    console.log(`  model           p50 ${result.model_p50_ms} ms   p99 ${result.model_p99_ms} ms`);
    if (pkg !== undefined)
      console.log(`  ${pkg.precision} fixture   max |error| ${result.fixture_max_abs_error ?? 'no fixture'}`);
  }
  if (values.profile) {
    const ops = await profileByOperator(onnx, 300);
    console.log(
      `onnxruntime profile (us per run, 1 thread): ${ops.map(([op, us]) => `${op} ${us}`).join(', ')}`,
    );
  }
  return 0;
}
