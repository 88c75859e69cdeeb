// `fadnet quantize`: the int8 package of an exported model, with activation ranges computed from
// real frames (simulator worlds or MCAP recordings) passed through the manifest's preprocessing.
// `fadnet export --precision int8` shares the calibration flags and code.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  choiceArg,
  numberArg,
  parseCommandArgs,
  progressBar,
  requiredArg,
  UsageError,
} from '../../common/index.ts';
import { loadModelPackage, readWeightsFile, writeModelPackage } from '../src/files.ts';
import type { InputSpec } from '../src/input-spec.ts';
import { parseManifestText, type ModelManifest } from '../src/manifest.ts';
import {
  ACTIVATION_TYPES,
  calibrateActivations,
  CALIBRATION_METHODS,
  CalibrationError,
  precisionOf,
  type PrecisionTarget,
} from '../src/quantize/index.ts';
import type { WeightSet } from '../src/weights/weight-set.ts';

const USAGE = `usage: fadnet quantize --model DIR|MANIFEST --calibrate (--mcap F,.. | --sim-worlds W,..) [--samples N] [--method minmax|percentile|entropy] [--activations uint8|int8] [--seed S] [--out DIR] [--name NAME]

  --model DIR       a float32 model package (its folder, or its manifest) with its safetensors
  --calibrate       compute activation ranges from real frames (the only mode)
  --mcap F,..       calibration frames from recordings (the train split)
  --sim-worlds W,.. calibration frames from simulator worlds (expert driving)
  --samples N       calibration frames (default 512)
  --method M        minmax, percentile (99.99%) or entropy (KL, TensorRT's) (default percentile)
  --activations T   uint8 asymmetric (QNN HTP) or int8 symmetric (TensorRT) (default uint8)
  --seed S          simulator seed or split seed (default 7)
  --out DIR         where the package goes (default: beside the model)
  --name NAME       package name (default: the model's name + "-int8")`;

/** The calibration flags, shared with `fadnet export --precision int8`. */
export const CALIBRATION_FLAGS = {
  mcap: { type: 'string' },
  'sim-worlds': { type: 'string' },
  samples: { type: 'string', default: '512' },
  method: { type: 'string', default: 'percentile' },
  activations: { type: 'string', default: 'uint8' },
  seed: { type: 'string', default: '7' },
} as const;

export interface CalibrationFlagValues {
  readonly mcap?: string | undefined;
  readonly 'sim-worlds'?: string | undefined;
  readonly samples: string;
  readonly method: string;
  readonly activations: string;
  readonly seed: string;
}

/** Calibration frames, preprocessed as `inputSpec` says, and a line saying where they came from. */
export async function calibrationFrames(
  flags: CalibrationFlagValues,
  inputSpec: InputSpec,
): Promise<{ frames: Float32Array; data: string }> {
  const samples = numberArg('--samples', flags.samples, { integer: true, min: 1, max: 100_000 });
  const FRAME_VALUES = inputSpec.width * inputSpec.height;
  const seed = numberArg('--seed', flags.seed, { integer: true, min: 0 });
  if ((flags.mcap === undefined) === (flags['sim-worlds'] === undefined))
    throw new UsageError('calibration needs exactly one of --mcap or --sim-worlds');
  const frames = new Float32Array(samples * FRAME_VALUES);
  const labels = new Float32Array(samples);
  if (flags['sim-worlds'] !== undefined) {
    // The simulator is an adapter of the CLI, not of the model core: loaded only when asked for.
    const [{ SimDataset }, { loadWorld }] = await Promise.all([
      import('../../sim/loop/dataset.ts'),
      import('../../sim/world/load.ts'),
    ]);
    const names = flags['sim-worlds'].split(',').filter((n) => n !== '');
    const perWorld = Math.ceil(samples / names.length);
    const bar = progressBar('simulate [{bar}] {value}/{total} frames');
    bar.start(names.length * perWorld, 0);
    const dataset = SimDataset.generate({
      worlds: names.map((n) => loadWorld(n)),
      samplesPerWorld: perWorld,
      seed,
      inputSpec,
      onProgress: (done) => {
        if (done % 50 === 0) bar.update(done);
      },
    });
    bar.stop();
    // Spread over every world (the first size/2 samples are the unmirrored frames in world order).
    await dataset.read(spread(samples, names.length * perWorld), frames, labels);
    return {
      frames,
      data: `simulator worlds ${names.join(', ')} (${samples} expert frames, seed ${seed})`,
    };
  }
  const files = flags.mcap!.split(',').filter((f) => f !== '');
  const { McapDataset } = await import('../src/dataset/index.ts');
  const dataset = await McapDataset.open(files, {
    inputSpec,
    split: { testFraction: 0.1, seed },
    which: 'train',
  });
  if (dataset.size === 0) throw new CalibrationError(`${files.join(', ')} hold no labelled frames`);
  const n = Math.min(samples, dataset.size);
  await dataset.read(spread(n, dataset.size), frames, labels);
  return {
    frames: frames.subarray(0, n * FRAME_VALUES),
    data: `recordings ${files.map((f) => path.basename(f)).join(', ')} (${n} frames of the train split, seed ${seed})`,
  };
}

/** n indices spread evenly over [0, size). */
function spread(n: number, size: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.floor((i * size) / n));
}

/** Calibrates and returns the int8 target for `writeModelPackage`. */
export async function int8Target(
  weights: WeightSet,
  inputSpec: InputSpec,
  flags: CalibrationFlagValues,
): Promise<PrecisionTarget> {
  const method = choiceArg('--method', flags.method, CALIBRATION_METHODS);
  const activations = choiceArg('--activations', flags.activations, ACTIVATION_TYPES);
  const { frames, data } = await calibrationFrames(flags, inputSpec);
  const samples = frames.length / (inputSpec.width * inputSpec.height);
  const bar = progressBar(`calibrate (${method}) [{bar}] {value}/{total} frames`);
  const passes = method === 'minmax' ? 1 : 2;
  bar.start(samples * passes, 0);
  const ranges = await calibrateActivations(weights, frames, {
    method,
    input: inputSpec,
    onProgress: (pass, done) => bar.update((pass - 1) * samples + done),
  });
  bar.stop();
  return { kind: 'int8', ranges, activations, calibration: { method, samples, data: [data] } };
}

/** A manifest path, or the one float32 package with weights in a folder. */
async function findFloatPackage(model: string): Promise<string> {
  if (model.endsWith('.manifest.json')) return model;
  let names: string[];
  try {
    names = (await readdir(model)).filter((f) => f.endsWith('.manifest.json'));
  } catch (error) {
    throw new UsageError(`--model ${model} is neither a manifest nor a readable folder`, { cause: error });
  }
  const candidates: string[] = [];
  for (const f of names) {
    const m = parseManifestText(await readFile(path.join(model, f), 'utf8'), f);
    if (precisionOf(m) === 'fp32' && m.weights !== undefined) candidates.push(path.join(model, f));
  }
  if (candidates.length !== 1) {
    throw new UsageError(
      `--model ${model} holds ${candidates.length} float32 packages with weights (${candidates.map((c) => path.basename(c)).join(', ') || 'none'}); name the manifest`,
    );
  }
  return candidates[0]!;
}

export async function quantizeCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    model: { type: 'string' },
    calibrate: { type: 'boolean', default: false },
    out: { type: 'string' },
    name: { type: 'string' },
    ...CALIBRATION_FLAGS,
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parsed;
  const manifestPath = await findFloatPackage(requiredArg('--model', values.model));
  if (!values.calibrate)
    throw new UsageError('--calibrate is required (activation ranges come from real frames)');
  const { manifest }: { manifest: ModelManifest } = await loadModelPackage(manifestPath);
  if (precisionOf(manifest) !== 'fp32' || manifest.weights === undefined) {
    throw new UsageError(`${path.basename(manifestPath)} is not a float32 package with weights`);
  }
  const weights = await readWeightsFile(path.join(path.dirname(manifestPath), manifest.weights.file));
  const target = await int8Target(weights, manifest.input, values);
  const out = values.out ?? path.dirname(manifestPath);
  const { manifestPath: written, manifest: m } = await writeModelPackage({
    dir: out,
    name: values.name ?? `${manifest.name}-int8`,
    version: manifest.version,
    weights,
    precision: target,
    provenance: {
      data: manifest.provenance.data,
      rounds: manifest.provenance.rounds,
      date: new Date().toISOString(),
      command: `fadnet quantize ${args.join(' ')}`,
      parent: `${manifest.name}@${manifest.version} (onnx sha256 ${manifest.onnx.sha256})`,
    },
  });
  console.log(`wrote ${written} (int8 QDQ, ${m.onnx.bytes} bytes, sha256 ${m.onnx.sha256.slice(0, 12)}…)`);
  return 0;
}
