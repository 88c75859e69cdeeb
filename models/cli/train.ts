import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  numberArg,
  optionalNumberArg,
  parseCommandArgs,
  progressBar,
  UsageError,
} from '../../common/index.ts';
import { readInputTensorFile, readWeightsFile, writeModelPackage } from '../src/files.ts';
import { FADNET_INPUT_SPEC } from '../src/input-spec.ts';
import { PlainFileName, SemanticVersion } from '../src/manifest.ts';
import { backendLine, initTfjs } from '../src/tfjs/backend.ts';
import { ArrayDataset, syntheticDataset, type TrainingDataset } from '../src/train/dataset.ts';
import { Trainer } from '../src/train/trainer.ts';
import { manifestField } from './export.ts';

const USAGE = `usage: fadnet train (--sim-worlds W1,W2,.. [--samples-per-world N] [--randomise-appearance EVERY] | --mcap F1.mcap,F2.mcap | --frames FILE.f32 --labels FILE.f32 | --synthetic N) --steps N --out DIR
                   [--name NAME] [--seed S] [--batch 32] [--lr 1e-3] [--init WEIGHTS.safetensors] [--resume]
                   [--checkpoint-every STEPS|SECONDSs] [--replicas N]

  --checkpoint-every E  a checkpoint every E steps (200) or seconds (60s; the default, so a
                        killed run loses about a minute); one is always written at the end
  --resume              continue from DIR/NAME.checkpoint.safetensors; refused when there is
                        none (leave it out to start from step 0)
  --replicas N          data-parallel worker threads (default 2 on wasm with 2+ cores)`;

/** `200` (steps) or `60s` (seconds of training) between checkpoints. */
export function parseCheckpointEvery(text: string): number | { seconds: number } {
  const seconds = /^(.*)s$/.exec(text);
  if (seconds !== null) return { seconds: numberArg('--checkpoint-every', seconds[1]!, { above: 0 }) };
  if (!/^\d+$/.test(text))
    throw new UsageError(
      `--checkpoint-every must be a whole number of steps (200) or seconds (60s), got "${text}"`,
    );
  return numberArg('--checkpoint-every', text, { integer: true, min: 1 });
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function readLabels(file: string): Promise<Float32Array> {
  const buf = await readFile(file);
  if (buf.byteLength % 4 !== 0)
    throw new RangeError(`${path.basename(file)} has ${buf.byteLength} bytes, not float32 values`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export async function trainCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    frames: { type: 'string' },
    labels: { type: 'string' },
    synthetic: { type: 'string' },
    'sim-worlds': { type: 'string' },
    'samples-per-world': { type: 'string', default: '2000' },
    'randomise-appearance': { type: 'string', default: '0' },
    mcap: { type: 'string' },
    version: { type: 'string', default: '0.1.0' },
    steps: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string', default: 'fadnet-local' },
    seed: { type: 'string', default: '0' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.001' },
    init: { type: 'string' },
    resume: { type: 'boolean', default: false },
    'checkpoint-every': { type: 'string', default: '60s' },
    replicas: { type: 'string' },
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parsed;
  const sources = [values.synthetic, values.frames, values['sim-worlds'], values.mcap].filter(
    (v) => v !== undefined,
  );
  if (values.steps === undefined || values.out === undefined || sources.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  // Every flag is checked before any data is generated or read.
  const name = manifestField('--name', values.name, PlainFileName);
  const version = manifestField('--version', values.version, SemanticVersion);
  const steps = numberArg('--steps', values.steps, { integer: true, min: 1 });
  const seed = numberArg('--seed', values.seed, { integer: true, min: 0 });
  const batch = numberArg('--batch', values.batch, { integer: true, min: 1, max: 1024 });
  const lr = numberArg('--lr', values.lr, { above: 0 });
  const replicas = optionalNumberArg('--replicas', values.replicas, { integer: true, min: 1 });
  const checkpointEvery = parseCheckpointEvery(values['checkpoint-every']);
  const checkpointPath = path.join(values.out, `${name}.checkpoint.safetensors`);
  const hasCheckpoint = await exists(checkpointPath);
  if (values.resume && !hasCheckpoint)
    throw new UsageError(
      `--resume: there is no checkpoint ${checkpointPath} (leave out --resume to start from step 0)`,
    );
  let dataset: TrainingDataset;
  let dataDescription: string;
  if (values.synthetic !== undefined) {
    const n = numberArg('--synthetic', values.synthetic, { integer: true, min: 1 });
    dataset = syntheticDataset(n, seed + 1);
    dataDescription = `synthetic:${values.synthetic}`;
  } else if (values['sim-worlds'] !== undefined) {
    // The simulator is an adapter of the CLI, not of the model core: loaded only when asked for.
    const [{ SimDataset }, { loadWorld }] = await Promise.all([
      import('../../sim/loop/dataset.ts'),
      import('../../sim/world/load.ts'),
    ]);
    const names = values['sim-worlds'].split(',');
    const perWorld = numberArg('--samples-per-world', values['samples-per-world'], {
      integer: true,
      min: 1,
    });
    // A new random look every EVERY samples (0: each world keeps its own look).
    const every = numberArg('--randomise-appearance', values['randomise-appearance'], {
      integer: true,
      min: 0,
    });
    const gen = progressBar('simulate [{bar}] {value}/{total} frames');
    gen.start(names.length * perWorld, 0);
    dataset = SimDataset.generate({
      worlds: names.map((n) => loadWorld(n)),
      samplesPerWorld: perWorld,
      seed,
      inputSpec: FADNET_INPUT_SPEC,
      ...(every > 0 ? { randomiseAppearance: { episodeSamples: every } } : {}),
      onProgress: (done) => {
        if (done % 100 === 0) gen.update(done);
      },
    });
    gen.stop();
    const looks = every > 0 ? `, a random look every ${every}` : '';
    dataDescription = `simulator worlds ${names.join(', ')} (${perWorld} expert frames each, perturbed${looks}, mirrored)`;
  } else if (values.mcap !== undefined) {
    const { McapDataset } = await import('../src/dataset/index.ts');
    const files = values.mcap.split(',');
    dataset = await McapDataset.open(files, {
      inputSpec: FADNET_INPUT_SPEC,
      split: { testFraction: 0.1, seed },
      which: 'train',
    });
    dataDescription = files.map((f) => path.basename(f)).join(', ');
  } else {
    if (values.labels === undefined) throw new Error('--frames needs --labels');
    const frames = await readInputTensorFile(values.frames!);
    dataset = new ArrayDataset(frames.data, await readLabels(values.labels));
    dataDescription = path.basename(values.frames!);
  }
  const backend = await initTfjs({ log: () => {} });
  const trainer = await Trainer.create({
    config: {
      seed,
      batchSize: batch,
      steps,
      lr: { base: lr, warmupSteps: Math.min(50, Math.floor(steps / 10)), floor: lr / 100 },
      checkpointEvery,
    },
    dataset,
    ...(values.init === undefined ? {} : { weights: await readWeightsFile(values.init) }),
    checkpointPath,
    resume: values.resume,
    ...(replicas === undefined ? {} : { replicas }),
  });
  console.error(backendLine(backend, trainer.replicas));
  if (values.resume) console.error(`resuming from step ${trainer.step} (${checkpointPath})`);
  else if (hasCheckpoint)
    console.error(
      `starting from step 0; the checkpoint ${checkpointPath} will be replaced (--resume continues it)`,
    );
  const bar = progressBar('train [{bar}] {value}/{total} steps | loss {loss} | rmse {rmse} | {ms} ms/step');
  bar.start(steps, trainer.step, { loss: '-', rmse: '-', ms: '-' });
  await trainer.run((r) =>
    bar.update(r.step, { loss: r.loss.toFixed(4), rmse: r.rmse.toFixed(4), ms: r.ms.toFixed(0) }),
  );
  bar.stop();
  const rmse = await trainer.evaluate(dataset);
  const { manifestPath } = await writeModelPackage({
    dir: values.out,
    name,
    version,
    weights: trainer.model.weights(),
    // The package declares the preprocessing and size of the frames the model learnt from.
    input: trainer.inputSpec,
    provenance: {
      data: [dataDescription],
      rounds: 0,
      date: new Date().toISOString(),
      command: `fadnet train ${args.join(' ')}`,
    },
  });
  console.log(
    `trained ${steps} steps; eval-mode RMSE on the training data ${rmse.toFixed(4)}; wrote ${manifestPath}`,
  );
  await trainer.dispose();
  return 0;
}
