import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../models/src/errors.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { syntheticDataset } from '../../models/src/train/dataset.ts';
import { learningRate } from '../../models/src/train/schedule.ts';
import { Trainer } from '../../models/src/train/trainer.ts';

let dir: string;
beforeAll(async () => {
  await initTfjs({ log: () => {} });
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-train-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const data = syntheticDataset(16, 5);
const config = {
  seed: 7,
  batchSize: 4,
  steps: 4,
  lr: { base: 1e-3, warmupSteps: 1, floor: 1e-5 },
  checkpointEvery: 2,
};

describe('learning-rate schedule', () => {
  it('warms up linearly then decays by cosine to the floor', () => {
    const s = { base: 1e-3, warmupSteps: 10, totalSteps: 110, floor: 1e-5 };
    expect(learningRate(s, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRate(s, 9)).toBeCloseTo(1e-3, 12);
    expect(learningRate(s, 60)).toBeCloseTo(1e-5 + (1e-3 - 1e-5) * 0.5, 12);
    expect(learningRate(s, 110)).toBeCloseTo(1e-5, 12);
    expect(learningRate(s, 500)).toBeCloseTo(1e-5, 12);
  });
});

describe('Trainer', () => {
  // One replica, and two (this thread and a worker thread, batch norm synchronised).
  it.each([1, 2])(
    'is deterministic for a seed and resumes from a checkpoint to the same weights (%i replicas)',
    async (replicas) => {
      const a = await Trainer.create({ config, dataset: data, replicas });
      expect(a.replicas).toBe(replicas);
      const reportsA = await a.run();
      const finalA = a.model.weights();
      await a.dispose();

      // Same seed, same losses; interrupted after 2 steps, then resumed in a fresh trainer:
      // the same losses and the same final weights.
      const ckpt = path.join(dir, `run${replicas}.checkpoint.safetensors`);
      const c = await Trainer.create({
        config: { ...config, steps: 2 },
        dataset: data,
        checkpointPath: ckpt,
        replicas,
      });
      const reportsC = await c.run();
      expect(reportsC.map((r) => r.loss)).toEqual(reportsA.slice(0, 2).map((r) => r.loss));
      await c.dispose();
      const d = await Trainer.create({ config, dataset: data, checkpointPath: ckpt, resume: true, replicas });
      expect(d.step).toBe(2);
      const reportsD = await d.run();
      expect(reportsD.map((r) => r.loss)).toEqual(reportsA.slice(2).map((r) => r.loss));
      const finalD = d.model.weights();
      for (const [name, values] of finalA) expect(finalD.get(name), name).toEqual(values);
      await d.dispose();
      // Written atomically: no temporary file is left beside the checkpoint.
      expect((await readdir(dir)).filter((f) => f.startsWith(`run${replicas}.`))).toEqual([
        `run${replicas}.checkpoint.safetensors`,
      ]);
    },
  );

  it('takes the same first step with 2 replicas as with 1, up to rounding', async () => {
    const losses: number[] = [];
    const weights = [];
    for (const replicas of [1, 2]) {
      const t = await Trainer.create({ config: { ...config, steps: 1 }, dataset: data, replicas });
      losses.push((await t.run())[0]!.loss);
      weights.push(t.model.weights());
      await t.dispose();
    }
    expect(Math.abs(losses[1]! - losses[0]!) / losses[0]!).toBeLessThan(1e-5);
    for (const [name, values] of weights[0]!) {
      // A conv bias feeding a batch norm has a gradient of exactly zero, so Adam's first step
      // on it follows the sign of rounding noise, a full-size step either way.
      if (/^res_block\d\.conv2d\.bias$/.test(name)) continue;
      const other = weights[1]!.get(name)!;
      const diff = values.reduce((m, v, i) => Math.max(m, Math.abs(v - other[i]!)), 0);
      // Adam's first step moves each weight by about lr; rounding moves it by far less.
      expect(diff, name).toBeLessThan(1e-5);
    }
  });

  it('checkpoints every so many seconds of training on its injected clock, and at the end', async () => {
    let nowMs = 0;
    const t = await Trainer.create({
      config: { ...config, steps: 5, checkpointEvery: { seconds: 60 } },
      dataset: data,
      checkpointPath: path.join(dir, 'seconds.checkpoint.safetensors'),
      replicas: 1,
      now: () => nowMs,
    });
    const savedAt: number[] = [];
    const save = t.saveCheckpoint.bind(t);
    t.saveCheckpoint = async () => {
      savedAt.push(t.step);
      await save();
    };
    // 25 s per step: 60 s have passed after step 3 (75 s), then again after step 6 (never
    // reached); the end of the run saves step 5.
    await t.run(() => (nowMs += 25_000));
    await t.dispose();
    expect(savedAt).toEqual([3, 5]);
  });

  it('lowers the loss on a learnable task', async () => {
    const t = await Trainer.create({
      config: { seed: 1, batchSize: 8, steps: 30, lr: { base: 3e-3, warmupSteps: 3, floor: 1e-4 } },
      dataset: syntheticDataset(32, 2),
      replicas: 1,
    });
    const before = await t.evaluate(syntheticDataset(32, 2));
    await t.run();
    const after = await t.evaluate(syntheticDataset(32, 2));
    expect(after).toBeLessThan(before * 0.8);
    await t.dispose();
  });

  it('refuses a checkpoint from another run or a corrupt one, leaving the trainer as it was', async () => {
    const ckpt = path.join(dir, 'other.checkpoint.safetensors');
    const other = await Trainer.create({
      config: { ...config, seed: 8, steps: 1 },
      dataset: data,
      checkpointPath: ckpt,
      replicas: 1,
    });
    await other.run();
    await other.dispose();
    await expect(
      Trainer.create({ config, dataset: data, checkpointPath: ckpt, resume: true }),
    ).rejects.toThrow(
      new CheckpointError('checkpoint was made with seed 8 and batch 4, this run uses seed 7 and batch 4'),
    );
    const bytes = await readFile(ckpt);
    await writeFile(ckpt, bytes.subarray(0, 1000));
    const t = await Trainer.create({ config: { ...config, seed: 8 }, dataset: data, replicas: 1 });
    const before = t.model.weights();
    expect(() => t.restore(new Uint8Array(bytes.subarray(0, 1000)))).toThrow(
      'checkpoint is not a readable safetensors file',
    );
    expect(t.step).toBe(0);
    for (const [name, values] of before) expect(t.model.weights().get(name)).toEqual(values);
    await t.dispose();
  });
});
