import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { WeightError } from '../../models/src/errors.ts';
import { FadnetTfjs } from '../../models/src/fadnet/tfjs-model.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { floatToHalf, halfToFloat } from '../../models/src/weights/half.ts';
import { decodeSafetensors, encodeSafetensors } from '../../models/src/weights/safetensors.ts';
import { FADNET_PARAMS } from '../../models/src/weights/spec.ts';
import {
  initialWeights,
  validateWeights,
  weightsFromSafetensors,
  weightsToSafetensors,
  type WeightSet,
} from '../../models/src/weights/weight-set.ts';
import { loadFixture } from '../helpers/fixture.ts';

let reference: WeightSet;
beforeAll(async () => {
  await initTfjs({ log: () => {} });
  reference = weightsFromSafetensors(loadFixture().weightsBytes);
});

function shaped(w: WeightSet): Map<string, { shape: readonly number[]; data: Float32Array }> {
  return new Map(
    FADNET_PARAMS.map((p) => [p.name, { shape: p.shape, data: Float32Array.from(w.get(p.name)!) }]),
  );
}

describe('safetensors', () => {
  it('round-trips the reference weights bit for bit in float32 with PyTorch names and layouts', () => {
    const bytes = weightsToSafetensors(reference);
    const decoded = decodeSafetensors(bytes);
    expect([...decoded.tensors.keys()]).toEqual(FADNET_PARAMS.map((p) => p.name));
    expect(decoded.tensors.get('conv1.weight')!.shape).toEqual([32, 1, 5, 5]);
    expect(decoded.tensors.get('conv1.weight')!.dtype).toBe('F32');
    for (const p of FADNET_PARAMS) expect(decoded.tensors.get(p.name)!.data).toEqual(reference.get(p.name));
    // Header length is 8-byte aligned so the data starts aligned, as the reference writer does.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
  });

  it('writes and reads float16 within half precision', () => {
    const decoded = weightsFromSafetensors(weightsToSafetensors(reference, { dtype: 'F16' }));
    const bytes = weightsToSafetensors(reference, { dtype: 'F16' });
    expect(decodeSafetensors(bytes).tensors.get('fc.weight')!.dtype).toBe('F16');
    for (const p of FADNET_PARAMS) {
      const a = reference.get(p.name)!;
      const b = decoded.get(p.name)!;
      for (let i = 0; i < a.length; i++)
        expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(Math.abs(a[i]!) * 1e-3 + 6e-8);
    }
  });

  it('converts half floats exactly like IEEE round-to-nearest-even', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(floatToHalf(5.960464477539063e-8)).toBe(0x0001);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
  });

  it('rejects truncated and malformed files with a typed error', () => {
    const bytes = weightsToSafetensors(reference);
    expect(() => weightsFromSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(
      'cannot read weights: tensor fc_accumulation.bias spans bytes [1370732, 1370736) outside the 1370732-byte data',
    );
    expect(() => weightsFromSafetensors(new Uint8Array(4))).toThrow(WeightError);
    const bad = encodeSafetensors([['x', { shape: [2], data: Float32Array.of(1, 2) }]]);
    bad[12] = 0xff; // corrupt the JSON header
    expect(() => decodeSafetensors(bad)).toThrow('safetensors header is not valid UTF-8 JSON');
  });
});

describe('weight validation', () => {
  it('names a missing tensor', () => {
    const m = shaped(reference);
    m.delete('res_block2.batch_norm_1.running_var');
    expect(() => validateWeights(m)).toThrow('tensor res_block2.batch_norm_1.running_var is missing');
  });

  it('names an extra tensor', () => {
    const m = shaped(reference);
    m.set('conv5.weight', { shape: [1], data: new Float32Array(1) });
    expect(() => validateWeights(m)).toThrow('unexpected tensor conv5.weight: FADNet has no such parameter');
  });

  it('names a mis-shaped tensor with both shapes', () => {
    const m = shaped(reference);
    m.set('conv1.weight', { shape: [32, 1, 3, 3], data: new Float32Array(288) });
    expect(() => validateWeights(m)).toThrow('tensor conv1.weight has shape [32,1,3,3], expected [32,1,5,5]');
  });

  it('names a non-finite value', () => {
    const m = shaped(reference);
    m.get('fc.bias')!.data[3] = Number.NaN;
    try {
      validateWeights(m);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WeightError);
      expect((error as WeightError).tensor).toBe('fc.bias');
      expect((error as Error).message).toBe('tensor fc.bias has a non-finite value NaN at index 3');
    }
  });

  it('a failed load leaves the model weights untouched', () => {
    const model = FadnetTfjs.create(reference);
    const before = tf.tidy(() => model.predict(tf.ones([1, 1, 200, 200])).dataSync()[0]);
    const bad = shaped(initialWeights(3));
    bad.get('res_block3.conv2d_2.bias')!.data[0] = Number.POSITIVE_INFINITY; // the last conv: all others would pass
    expect(() => model.load(bad)).toThrow(
      'tensor res_block3.conv2d_2.bias has a non-finite value Infinity at index 0',
    );
    const after = tf.tidy(() => model.predict(tf.ones([1, 1, 200, 200])).dataSync()[0]);
    expect(after).toBe(before);
    const w = model.weights();
    for (const p of FADNET_PARAMS) expect(w.get(p.name)).toEqual(reference.get(p.name));
    model.dispose();
  });
});
