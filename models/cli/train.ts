import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { readInputTensorFile, readWeightsFile, writeModelPackage } from '../src/files.ts';
import { initTfjs } from '../src/tfjs/backend.ts';
import { ArrayDataset, syntheticDataset, type TrainingDataset } from '../src/train/dataset.ts';
import { Trainer } from '../src/train/trainer.ts';

const USAGE = `usage: fadnet train (--frames FILE.f32 --labels FILE.f32 | --synthetic N) --steps N --out DIR
                   [--name NAME] [--seed S] [--batch 32] [--lr 1e-3] [--init WEIGHTS.safetensors] [--resume]`;

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
      steps: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string', default: 'fadnet-local' },
      seed: { type: 'string', default: '0' },
      batch: { type: 'string', default: '32' },
      lr: { type: 'string', default: '0.001' },
      init: { type: 'string' },
      resume: { type: 'boolean', default: false },
    },
  });
  if (
    values.steps === undefined ||
    values.out === undefined ||
    (values.synthetic === undefined && values.frames === undefined)
  ) {
    console.error(USAGE);
    return 2;
  }
  let dataset: TrainingDataset;
  if (values.synthetic !== undefined)
    dataset = syntheticDataset(Number(values.synthetic), Number(values.seed) + 1);
  else {
    if (values.labels === undefined) throw new Error('--frames needs --labels');
    const frames = await readInputTensorFile(values.frames!);
    dataset = new ArrayDataset(frames.data, await readLabels(values.labels));
  }
  await initTfjs();
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
  });
  if (trainer.step > 0) console.error(`resuming from step ${trainer.step}`);
  const bar = new SingleBar(
    {
      format: 'train [{bar}] {value}/{total} steps | loss {loss} | rmse {rmse} | {ms} ms/step',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(steps, trainer.step, { loss: '-', rmse: '-', ms: '-' });
  await trainer.run((r) =>
    bar.update(r.step, { loss: r.loss.toFixed(4), rmse: r.rmse.toFixed(4), ms: r.ms.toFixed(0) }),
  );
  bar.stop();
  const rmse = await trainer.evaluate(dataset);
  const { manifestPath } = await writeModelPackage({
    dir: values.out,
    name: values.name,
    version: '0.1.0',
    weights: trainer.model.weights(),
    provenance: {
      data: [
        values.synthetic !== undefined ? `synthetic:${values.synthetic}` : path.basename(values.frames!),
      ],
      rounds: 0,
      date: new Date().toISOString(),
      command: `fadnet train ${args.join(' ')}`,
    },
  });
  console.log(
    `trained ${steps} steps; eval-mode RMSE on the training data ${rmse.toFixed(4)}; wrote ${manifestPath}`,
  );
  trainer.dispose();
  return 0;
}
