// What each precision costs in accuracy: steering RMSE against the expert on held-out simulator
// frames (the eval world, never trained or calibrated on) for float32, float16 and int8 with each
// calibration method, and each model's largest difference from float32 on the same frames.
// The simulator is loaded here as the CLI loads it, only when this benchmark runs.
import path from 'node:path';
import { parseCommandArgs, choiceArg, numberArg } from '../../common/index.ts';
import { calibrationFrames } from '../cli/quantize.ts';
import { OnnxEngine } from '../src/engine/onnx-engine.ts';
import type { FrameSize } from '../src/fadnet/geometry.ts';
import { loadModelPackage, readWeightsFile } from '../src/files.ts';
import {
  ACTIVATION_TYPES,
  calibrateActivations,
  CALIBRATION_METHODS,
  exportPrecisionOnnx,
  type PrecisionTarget,
} from '../src/quantize/index.ts';

const SHIPPED = 'models/shipped/fadnet-sim.manifest.json';
/** The worlds the shipped model was trained on: calibration comes from them, never from the eval world. */
const TRAIN_WORLDS = 'gym-oval,office-loop,park-path,parking-lot,warehouse-kidney';

export interface PrecisionRow {
  readonly model: string;
  readonly rmse: number;
  /** RMSE relative to float32's, minus 1 (0.01 = 1% worse). */
  readonly rmse_vs_fp32: number;
  readonly max_abs_diff_vs_fp32: number;
}

export function rmse(pred: Float32Array, labels: Float32Array): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += (pred[i]! - labels[i]!) ** 2;
  return Math.sqrt(s / labels.length);
}

/** Steering for frames of `input` pixels (the package's input size). */
async function predict(onnx: Uint8Array, frames: Float32Array, input: FrameSize): Promise<Float32Array> {
  const engine = await OnnxEngine.create({ onnx, input, config: { warmupRuns: 0 }, log: () => {} });
  const frame = input.height * input.width;
  try {
    const n = frames.length / frame;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 32) {
      const k = Math.min(32, n - i);
      out.set(await engine.run(frames.subarray(i * frame, (i + k) * frame), k), i);
    }
    return out;
  } finally {
    await engine.dispose();
  }
}

export async function benchPrecisionCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    model: { type: 'string', default: SHIPPED },
    'eval-samples': { type: 'string', default: '600' },
    'calibration-samples': { type: 'string', default: '500' },
    activations: { type: 'string', default: 'uint8' },
  });
  if (parsed.help) {
    console.log(
      'usage: fadnet bench precision [--model MANIFEST] [--eval-samples N] [--calibration-samples N] [--activations uint8|int8] [--json]',
    );
    return 0;
  }
  const { values } = parsed;
  const evalSamples = numberArg('--eval-samples', values['eval-samples'], { integer: true, min: 1 });
  const activations = choiceArg('--activations', values.activations, ACTIVATION_TYPES);
  const { manifest, manifestPath } = await loadModelPackage(values.model);
  if (manifest.weights === undefined) throw new Error(`${values.model} has no weights to export from`);
  const weights = await readWeightsFile(path.join(path.dirname(manifestPath), manifest.weights.file));
  const [{ SimDataset }, { loadWorld }, { heldOutWorld }] = await Promise.all([
    import('../../sim/loop/dataset.ts'),
    import('../../sim/world/load.ts'),
    import('../../sim/loop/cli.ts'),
  ]);
  const evalSet = SimDataset.generate({
    worlds: [loadWorld(heldOutWorld())],
    samplesPerWorld: evalSamples,
    seed: 101,
    inputSpec: manifest.input,
  });
  // Every frame is of the package's input size, as its model takes.
  const frame = manifest.input.height * manifest.input.width;
  const frames = new Float32Array(evalSamples * frame);
  const labels = new Float32Array(evalSamples);
  await evalSet.read(
    Array.from({ length: evalSamples }, (_, i) => i),
    frames,
    labels,
  );
  const calib = await calibrationFrames(
    {
      'sim-worlds': TRAIN_WORLDS,
      samples: values['calibration-samples'],
      method: 'minmax',
      activations,
      seed: '7',
    },
    manifest.input,
  );
  const targets: [string, () => Promise<PrecisionTarget>][] = [
    ['fp32', async () => ({ kind: 'fp32' })],
    ['fp16', async () => ({ kind: 'fp16' })],
    ...CALIBRATION_METHODS.map(
      (method) =>
        [
          `int8 ${method}`,
          async (): Promise<PrecisionTarget> => ({
            kind: 'int8',
            ranges: await calibrateActivations(weights, calib.frames, { method, input: manifest.input }),
            activations,
            calibration: { method, samples: calib.frames.length / frame, data: [calib.data] },
          }),
        ] as [string, () => Promise<PrecisionTarget>],
    ),
  ];
  const rows: PrecisionRow[] = [];
  let reference: { pred: Float32Array; rmse: number } | undefined;
  for (const [label, target] of targets) {
    const pred = await predict(
      exportPrecisionOnnx(weights, await target(), { input: manifest.input }).onnx,
      frames,
      manifest.input,
    );
    const e = rmse(pred, labels);
    reference ??= { pred, rmse: e };
    let maxDiff = 0;
    for (let i = 0; i < pred.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs(pred[i]! - reference.pred[i]!));
    rows.push({
      model: label,
      rmse: round6(e),
      rmse_vs_fp32: round6(e / reference.rmse - 1),
      max_abs_diff_vs_fp32: round6(maxDiff),
    });
    if (!values.json) console.error(`${label}: done`);
  }
  const result = {
    model: `${manifest.name}@${manifest.version}`,
    eval: `${heldOutWorld()}, ${evalSamples} expert frames, seed 101`,
    calibration: calib.data,
    activations,
    rows,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`steering RMSE on ${result.eval} (${result.model})`);
    console.log(`calibration: ${result.calibration}, ${activations} activations`);
    for (const r of rows)
      console.log(
        `  ${r.model.padEnd(16)} rmse ${r.rmse.toFixed(5)}  vs fp32 ${(r.rmse_vs_fp32 * 100).toFixed(2).padStart(6)}%  max |diff| ${r.max_abs_diff_vs_fp32.toFixed(5)}`,
      );
  }
  return 0;
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;
