// The SIMD matrix product for filter gradients (models/src/tfjs/training/simd/gemm.wat) against a
// float64 reference, on FADNet's shapes and on remainders of every tile dimension.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { gemmOp, hasGemmSimd } from '../../models/src/tfjs/training/gemm-kernel.ts';
import { registerWasmTrainingKernels } from '../../models/src/tfjs/training/register.ts';
import { seeded } from '../helpers/data.ts';

/** Largest |c - reference| over the largest |reference|. */
function relError(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  k: number,
  p: number,
  co: number,
): number {
  let err = 0;
  let max = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < co; j++) {
      let sum = 0;
      for (let q = 0; q < p; q++) sum += a[i * p + q]! * b[q * co + j]!;
      err = Math.max(err, Math.abs(c[i * co + j]! - sum));
      max = Math.max(max, Math.abs(sum));
    }
  }
  return err / max;
}

describe('SIMD GEMM on wasm', () => {
  let ready = false;
  beforeAll(async () => {
    await initTfjs({ order: ['wasm'], log: () => {} });
    registerWasmTrainingKernels();
    ready = tf.getBackend() === 'wasm' && hasGemmSimd(4);
  });

  const shapes: [number, number, number][] = [
    [1, 1, 4],
    [3, 5, 8],
    [5, 7, 12],
    [6, 300, 4],
    [7, 513, 32],
    [9, 1, 64],
    [10, 257, 128],
    [288, 5408, 64],
    [576, 1568, 128],
    [288, 20000, 32],
  ];
  it.each(shapes)('[%i, %i] @ [., %i] matches a float64 sum', (k, p, co) => {
    if (!ready) return;
    const a = seeded(k * p, k + p);
    const b = seeded(p * co, co + 3);
    const c = tf.tidy(() => gemmOp(tf.tensor2d(a, [k, p]), tf.tensor2d(b, [p, co])));
    expect(c.shape).toEqual([k, co]);
    expect(relError(a, b, c.dataSync() as Float32Array, k, p, co)).toBeLessThan(1e-5);
    c.dispose();
  });
});
