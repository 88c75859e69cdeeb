import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { FadnetTfjs } from '../../models/src/fadnet/tfjs-model.ts';
import { exportFadnetOnnx } from '../../models/src/onnx/export.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { FADNET_TRAINABLE_COUNT } from '../../models/src/weights/spec.ts';
import { weightsFromSafetensors, type WeightSet } from '../../models/src/weights/weight-set.ts';
import { loadFixture, type Fixture } from '../helpers/fixture.ts';

let fx: Fixture;
let weights: WeightSet;

beforeAll(async () => {
  await initTfjs({ log: () => {} });
  fx = loadFixture();
  weights = weightsFromSafetensors(fx.weightsBytes);
});

describe('FADNet parity with the reference fixture', () => {
  it('has the reference parameter count', () => {
    expect(FADNET_TRAINABLE_COUNT).toBe(341_980);
  });

  it('TF.js reproduces outputs within 2e-5 and features within 1e-5', () => {
    const model = FadnetTfjs.create(weights);
    const x = tf.tensor4d(fx.inputs, [4, 1, 200, 200]);
    const out = model.predict(x).dataSync();
    const feats = model.features(x).dataSync();
    for (let i = 0; i < 4; i++) expect(Math.abs(out[i]! - fx.outputs[i]!)).toBeLessThan(2e-5);
    let worst = 0;
    for (let i = 0; i < feats.length; i++) worst = Math.max(worst, Math.abs(feats[i]! - fx.features[i]!));
    expect(worst).toBeLessThan(1e-5);
    // The outputs differ per image by ~3e-4; a pass that ignored its input would not match.
    expect(Math.abs(out[3]! - out[0]!)).toBeGreaterThan(1e-4);
    x.dispose();
    model.dispose();
  });

  it('ONNX Runtime runs the exported model and agrees with TF.js within 1e-5', async () => {
    const engine = await OnnxEngine.create({
      onnx: exportFadnetOnnx(weights),
      config: { warmupRuns: 1 },
      log: () => {},
    });
    const onnxOut = await engine.run(fx.inputs, 4);
    const model = FadnetTfjs.create(weights);
    const tfOut = tf.tidy(() => model.predict(tf.tensor4d(fx.inputs, [4, 1, 200, 200])).dataSync());
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(onnxOut[i]! - tfOut[i]!)).toBeLessThan(1e-5);
      expect(Math.abs(onnxOut[i]! - fx.outputs[i]!)).toBeLessThan(2e-5);
    }
    // batch-1 path gives the same numbers
    expect(Math.abs((await engine.runOne(fx.inputs.subarray(40000, 80000))) - onnxOut[1]!)).toBeLessThan(
      1e-6,
    );
    await engine.dispose();
    model.dispose();
  });

  it('agrees on weights and inputs it has never seen (seeded random set)', async () => {
    const { initialWeights } = await import('../../models/src/weights/weight-set.ts');
    const w = new Map(initialWeights(42));
    // Non-trivial BN statistics so the eval path is exercised.
    for (const [name, data] of w) {
      if (name.endsWith('running_mean')) data.forEach((_, i) => (data[i] = Math.sin(i) * 0.3));
      if (name.endsWith('running_var')) data.forEach((_, i) => (data[i] = 0.5 + ((i * 7) % 5) / 5));
    }
    const input = new Float32Array(3 * 40000).map((_, i) => Math.sin(i * 0.013) * Math.cos(i * 0.0007));
    const engine = await OnnxEngine.create({
      onnx: exportFadnetOnnx(w),
      config: { warmupRuns: 0 },
      log: () => {},
    });
    const onnxOut = await engine.run(input, 3);
    const model = FadnetTfjs.create(w);
    const tfOut = tf.tidy(() => model.predict(tf.tensor4d(input, [3, 1, 200, 200])).dataSync());
    for (let i = 0; i < 3; i++) expect(Math.abs(onnxOut[i]! - tfOut[i]!)).toBeLessThan(1e-5);
    await engine.dispose();
    model.dispose();
  });
});
