import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { progressBar } from '../../common/index.ts';
import { readInputTensorFile, readWeightsFile, writeModelPackage } from '../src/files.ts';
import { FADNET_INPUT_SPEC } from '../src/input-spec.ts';
import { backendLine, initTfjs } from '../src/tfjs/backend.ts';
import { ArrayDataset, syntheticDataset, type TrainingDataset } from '../src/train/dataset.ts';
import { Trainer } from '../src/train/trainer.ts';

const USAGE = `usage: fadnet train (--sim-worlds W1,W2,.. [--samples-per-world N] [--randomise-appearance EVERY] | --mcap F1.mcap,F2.mcap | --frames FILE.f32 --labels FILE.f32 | --synthetic N) --steps N --out DIR
                   [--name NAME] [--seed S] [--batch 32] [--lr 1e-3] [--init WEIGHTS.safetensors] [--resume]
                   [--replicas N (data-parallel worker threads; default 2 on wasm with 2+ cores)]`;

async function readLabels(file: string): Promise<Float32Array> {
  const buf = await readFile(file);
  if (buf.byteLength % 4 !== 0)
    throw new RangeError(`${path.basename(file)} has ${buf.byteLength} bytes, not float32 values`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export async function trainCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
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
      replicas: { type: 'string' },
    },
  });
  const sources = [values.synthetic, values.frames, values['sim-worlds'], values.mcap].filter(
    (v) => v !== undefined,
  );
  if (values.steps === undefined || values.out === undefined || sources.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  let dataset: TrainingDataset;
  let dataDescription: string;
  if (values.synthetic !== undefined) {
    dataset = syntheticDataset(Number(values.synthetic), Number(values.seed) + 1);
    dataDescription = `synthetic:${values.synthetic}`;
  } else if (values['sim-worlds'] !== undefined) {
    // The simulator is an adapter of the CLI, not of the model core: loaded only when asked for.
    const [{ SimDataset }, { loadWorld }] = await Promise.all([
      import('../../sim/loop/dataset.ts'),
      import('../../sim/world/load.ts'),
    ]);
    const names = values['sim-worlds'].split(',');
    const perWorld = Number(values['samples-per-world']);
    // A new random look every EVERY samples (0: each world keeps its own look).
    const every = Number(values['randomise-appearance']);
    if (!(Number.isInteger(every) && every >= 0))
      throw new RangeError(
        `--randomise-appearance must be a whole number of samples, got ${values['randomise-appearance']}`,
      );
    const gen = progressBar('simulate [{bar}] {value}/{total} frames');
    gen.start(names.length * perWorld, 0);
    dataset = SimDataset.generate({
      worlds: names.map((n) => loadWorld(n)),
      samplesPerWorld: perWorld,
      seed: Number(values.seed),
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
      split: { testFraction: 0.1, seed: Number(values.seed) },
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
  const steps = Number(values.steps);
  const trainer = await Trainer.create({
    config: {
      seed: Number(values.seed),
      batchSize: Number(values.batch),
      steps,
      lr: {
        base: Number(values.lr),
        warmupSteps: Math.min(50, Math.floor(steps / 10)),
        floor: Number(values.lr) / 100,
      },
    },
    dataset,
    ...(values.init === undefined ? {} : { weights: await readWeightsFile(values.init) }),
    checkpointPath: path.join(values.out, `${values.name}.checkpoint.safetensors`),
    resume: values.resume,
    ...(values.replicas === undefined ? {} : { replicas: Number(values.replicas) }),
  });
  console.error(backendLine(backend, trainer.replicas));
  if (trainer.step > 0) console.error(`resuming from step ${trainer.step}`);
  const bar = progressBar('train [{bar}] {value}/{total} steps | loss {loss} | rmse {rmse} | {ms} ms/step');
  bar.start(steps, trainer.step, { loss: '-', rmse: '-', ms: '-' });
  await trainer.run((r) =>
    bar.update(r.step, { loss: r.loss.toFixed(4), rmse: r.rmse.toFixed(4), ms: r.ms.toFixed(0) }),
  );
  bar.stop();
  const rmse = await trainer.evaluate(dataset);
  const { manifestPath } = await writeModelPackage({
    dir: values.out,
    name: values.name,
    version: values.version,
    weights: trainer.model.weights(),
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
