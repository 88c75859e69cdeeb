// Training takes its frame size from the data: a Trainer on 198 x 198 synthetic frames takes
// steps, 2 replicas agree with 1, and the package it exports declares the data's 198 x 198 input
// spec and runs in ONNX Runtime, also as int8 calibrated on 198 x 198 frames. A size FADNet cannot take is refused before training starts, and
// a checkpoint or an evaluation set of another size is refused naming both sizes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { CheckpointError, InputSizeError } from '../../models/src/errors.ts';
import { loadModelPackage, writeModelPackage } from '../../models/src/files.ts';
import { FADNET_INPUT_SPEC, type InputSpec } from '../../models/src/input-spec.ts';
import { calibrateActivations } from '../../models/src/quantize/index.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { ArrayDataset, frameValues, syntheticDataset } from '../../models/src/train/dataset.ts';
import { Trainer } from '../../models/src/train/trainer.ts';
import { initialWeights, type WeightSet } from '../../models/src/weights/weight-set.ts';

const specOf = (height: number, width: number): InputSpec => ({
  ...FADNET_INPUT_SPEC,
  width,
  height,
  crop: { kind: 'center', width, height },
});
const spec198 = specOf(198, 198);
const config = { seed: 3, batchSize: 4, steps: 2, lr: { base: 1e-3, warmupSteps: 1, floor: 1e-5 } };

let dir: string;
beforeAll(async () => {
  await initTfjs({ log: () => {} });
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-train-size-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('training on frames of another size', () => {
  const data = syntheticDataset(8, 4, spec198);

  it('synthetic frames have the size of their spec, and 200 x 200 ones are the same bits as before', async () => {
    expect(data.inputSpec).toBe(spec198);
    const x = new Float32Array(2 * frameValues(spec198));
    const y = new Float32Array(2);
    await data.read([0, 1], x, y);
    // The bright stripe (0.8 +- 0.05) crosses every row; the rest is dark (-0.6 +- 0.05).
    const bright = x.subarray(0, 198).filter((v) => v > 0).length;
    expect(bright).toBeGreaterThanOrEqual(11);
    expect(bright).toBeLessThanOrEqual(12);
    expect(() => new ArrayDataset(x, new Float32Array(3), spec198)).toThrow(
      'dataset has 78408 frame values for 3 labels of 1 x 198 x 198',
    );
    const old = syntheticDataset(1, 5);
    expect(old.inputSpec).toBe(FADNET_INPUT_SPEC);
    const x200 = new Float32Array(frameValues(FADNET_INPUT_SPEC));
    const y200 = new Float32Array(1);
    await old.read([0], x200, y200);
    // Values of the 200 x 200 set as it was generated before sizes came from the spec.
    expect(y200[0]).toBe(-1.2524120807647705);
    expect(x200[0]).toBe(-0.5691450238227844);
  });

  it('takes steps with 1 and 2 replicas alike, and exports a 198 x 198 package that runs in ONNX Runtime', async () => {
    const losses: number[][] = [];
    const weights: WeightSet[] = [];
    let exported: { manifestPath: string } | undefined;
    for (const replicas of [1, 2]) {
      const t = await Trainer.create({ config, dataset: data, replicas });
      try {
        expect(t.replicas).toBe(replicas);
        expect(t.inputSpec).toEqual(spec198);
        // Weights compared after the first step, as the 200 x 200 trainer test does: after that
        // Adam amplifies rounding on weights whose gradient is near zero.
        const first = await t.trainStep();
        weights.push(t.model.weights());
        const reports = [first, await t.trainStep()];
        expect(reports.map((r) => r.step)).toEqual([1, 2]);
        for (const r of reports) expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true);
        losses.push(reports.map((r) => r.loss));
        expect(await t.evaluate(data)).toBeGreaterThan(0);
        if (replicas === 1) {
          exported = await writeModelPackage({
            dir,
            name: 'fadnet-198-trained',
            version: '0.1.0',
            weights: t.model.weights(),
            input: t.inputSpec,
            provenance: { data: ['synthetic:8'], rounds: 0, date: '2026-01-01T00:00:00.000Z' },
          });
        }
      } finally {
        await t.dispose();
      }
    }
    // The same bounds as the 200 x 200 trainer test: losses within 1e-5 relative, weights 1e-5.
    for (let i = 0; i < 2; i++)
      expect(Math.abs(losses[1]![i]! - losses[0]![i]!) / losses[0]![i]!).toBeLessThan(1e-5);
    for (const [name, values] of weights[0]!) {
      // A conv bias feeding a batch norm has a gradient of exactly zero: Adam follows rounding noise.
      if (/^res_block\d\.conv2d\.bias$/.test(name)) continue;
      const other = weights[1]!.get(name)!;
      const diff = values.reduce((m, v, i) => Math.max(m, Math.abs(v - other[i]!)), 0);
      expect(diff, name).toBeLessThan(1e-5);
    }

    const loaded = await loadModelPackage(exported!.manifestPath);
    expect(loaded.manifest.input).toEqual(spec198);
    const engine = await OnnxEngine.create({
      onnx: loaded.onnx,
      input: loaded.manifest.input,
      config: { warmupRuns: 1 },
      log: () => {},
    });
    try {
      expect(engine.input).toEqual({ height: 198, width: 198 });
      const x = new Float32Array(2 * frameValues(spec198));
      await data.read([0, 1], x, new Float32Array(2));
      const out = await engine.run(x, 2);
      expect(out.length).toBe(2);
      for (const v of out) expect(Number.isFinite(v)).toBe(true);
      expect(out[0]).not.toBe(out[1]);
    } finally {
      await engine.dispose();
    }
  }, 120_000);

  it('refuses a size FADNet cannot take before training, and data or checkpoints of another size', async () => {
    const small = syntheticDataset(4, 1, specOf(160, 160));
    const start = Trainer.create({ config, dataset: small, replicas: 1 });
    await expect(start).rejects.toThrow(InputSizeError);
    await expect(Trainer.create({ config, dataset: small, replicas: 1 })).rejects.toThrow(
      "the training dataset's 160x160 frames cannot train FADNet: input 160x160 gives x4 5x5, but fc is Linear(7 -> 7) over x4's width (widths 197-200 give 7)",
    );

    const t198 = await Trainer.create({ config, dataset: data, replicas: 1 });
    const t200 = await Trainer.create({ config, dataset: syntheticDataset(4, 1), replicas: 1 });
    try {
      await expect(t198.evaluate(syntheticDataset(4, 1))).rejects.toThrow(
        'cannot evaluate on 200x200 frames a model trained on 198x198',
      );
      const before = t200.model.weights();
      expect(() => t200.restore(t198.checkpointBytes())).toThrow(CheckpointError);
      expect(() => t200.restore(t198.checkpointBytes())).toThrow(
        "checkpoint was made on 198x198 frames, this run's dataset has 200x200",
      );
      for (const [name, values] of t200.model.weights()) expect(values, name).toEqual(before.get(name));
      expect(t200.step).toBe(0);
    } finally {
      await t198.dispose();
      await t200.dispose();
    }
  });
  it('calibrates on frames of its size and exports an int8 package of that size', async () => {
    const weights = initialWeights(2);
    const x = new Float32Array(2 * frameValues(spec198));
    await data.read([2, 3], x, new Float32Array(2));
    await expect(
      calibrateActivations(weights, new Float32Array(2 * frameValues(FADNET_INPUT_SPEC)), {
        method: 'minmax',
        input: spec198,
      }),
    ).rejects.toThrow('calibration needs whole 1 x 198 x 198 frames, got 80000 values');
    const ranges = await calibrateActivations(weights, x, { method: 'minmax', input: spec198 });
    const { manifestPath } = await writeModelPackage({
      dir,
      name: 'fadnet-198-int8',
      version: '0.1.0',
      weights,
      input: spec198,
      precision: {
        kind: 'int8',
        ranges,
        activations: 'uint8',
        calibration: { method: 'minmax', samples: 2, data: ['synthetic:8'] },
      },
      provenance: { data: ['synthetic:8'], rounds: 0, date: '2026-01-01T00:00:00.000Z' },
    });
    const loaded = await loadModelPackage(manifestPath);
    expect(loaded.manifest.input).toEqual(spec198);
    const engine = await OnnxEngine.create({
      onnx: loaded.onnx,
      input: loaded.manifest.input,
      config: { warmupRuns: 1 },
      log: () => {},
    });
    try {
      const out = await engine.run(x, 2);
      for (const v of out) expect(Number.isFinite(v)).toBe(true);
    } finally {
      await engine.dispose();
    }
  }, 60_000);
});
