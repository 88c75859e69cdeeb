// The max pool that records its taps (models/src/tfjs/training/max-pool-taps.ts, simd/pool.wat): y against
// the CPU backend's MaxPool, bit for bit; the gradient from the taps against the existing heap
// kernel and the tie/NaN rule it implements, bit for bit, and against the CPU backend's
// MaxPoolGrad; the taps path taken by tf.grad, and the fallbacks where it cannot run.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTfjs, useBackend } from '../../models/src/tfjs/backend.ts';
import { maxPoolGrad } from '../../models/src/tfjs/training/gradients.ts';
import { maxPoolGradFromTaps } from '../../models/src/tfjs/training/max-pool-taps.ts';
import { registerWasmTrainingKernels } from '../../models/src/tfjs/training/register.ts';
import { maxPoolGradReference, seeded } from '../helpers/data.ts';

type Shape4 = [number, number, number, number];

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    )
  );
}

/** The input with a few NaNs: alone in a window, first in one, and a whole window of them. */
function withNaNs(xv: Float32Array, [, , w, c]: Shape4, k: number): Float32Array {
  const out = xv.slice();
  out[5] = Number.NaN;
  out[c * 3 + 1] = Number.NaN;
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) out[(a * w + b) * c + 2] = Number.NaN;
  return out;
}

beforeAll(async () => {
  await initTfjs({ order: ['wasm'], log: () => {} });
  registerWasmTrainingKernels();
});

afterAll(async () => {
  await useBackend('wasm');
});

const cases = [
  { n: 2, h: 100, w: 100, c: 32, k: 3, stride: 2, nan: false }, // after conv1
  { n: 2, h: 100, w: 100, c: 32, k: 3, stride: 2, nan: true },
  { n: 2, h: 13, w: 11, c: 8, k: 3, stride: 2, nan: true },
  { n: 1, h: 10, w: 9, c: 4, k: 2, stride: 1, nan: true },
  { n: 2, h: 11, w: 12, c: 12, k: 3, stride: 3, nan: false },
  { n: 3, h: 7, w: 6, c: 4, k: 1, stride: 2, nan: false },
  { n: 1, h: 17, w: 16, c: 8, k: 16, stride: 1, nan: true },
];

describe('max pool with recorded taps on wasm', () => {
  it.each(cases)('n=$n h=$h w=$w c=$c k=$k stride=$stride nan=$nan', async (c) => {
    const xShape: Shape4 = [c.n, c.h, c.w, c.c];
    // Few levels: many windows hold their maximum twice, so the tie rule matters.
    let xv = seeded(c.n * c.h * c.w * c.c, 31, 6);
    if (c.nan) xv = withNaNs(xv, xShape, c.k);
    const attrs = { filterSize: c.k, strides: c.stride, pad: 'valid' as const };

    expect(await useBackend('cpu')).toBe(true);
    const [yCpu, dxCpu] = tf.tidy(() => {
      const x = tf.tensor4d(xv, xShape);
      const y = tf.maxPool(x, c.k, c.stride, 'valid');
      const dy = tf.tensor4d(seeded(y.size, 32), y.shape);
      const dx = tf
        .engine()
        .runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs as unknown as NamedAttrMap);
      return [y.dataSync() as Float32Array, (dx as tf.Tensor).dataSync() as Float32Array];
    });

    expect(await useBackend('wasm')).toBe(true);
    const x = tf.tensor4d(xv, xShape);
    const y = tf.maxPool(x, c.k, c.stride, 'valid');
    const yv = y.dataSync() as Float32Array;
    expect(sameBits(yv, yCpu)).toBe(true);
    const dyv = seeded(y.size, 32);
    const dy = tf.tensor4d(dyv, y.shape);
    const fromTaps = maxPoolGradFromTaps(dy, x, y, attrs);
    expect(fromTaps).not.toBeNull();
    const dxTaps = fromTaps!.dataSync() as Float32Array;
    const dxOld = maxPoolGrad(dy, x, y, attrs);
    const expected = maxPoolGradReference(xv, xShape, yv, dyv, [y.shape[1], y.shape[2]], c.k, c.stride);
    expect(sameBits(dxTaps, expected)).toBe(true);
    expect(sameBits(dxTaps, dxOld.dataSync() as Float32Array)).toBe(true);
    if (!c.nan) {
      // The CPU kernel sums overlapping windows in another order: equal up to rounding.
      let diff = 0;
      for (let i = 0; i < dxCpu.length; i++) diff = Math.max(diff, Math.abs(dxTaps[i]! - dxCpu[i]!));
      expect(diff).toBeLessThan(1e-5);
    }
    tf.dispose([x, y, dy, fromTaps!, dxOld]);
  });

  it("tf.grad uses the taps on FADNet's batch-32 pool and matches the existing kernel", () => {
    const xShape: Shape4 = [32, 100, 100, 32];
    const xv = seeded(32 * 100 * 100 * 32, 41, 10);
    const x = tf.tensor4d(xv, xShape);
    const dy = tf.tensor4d(seeded(32 * 49 * 49 * 32, 42), [32, 49, 49, 32]);
    const kernels: string[] = [];
    let dx: tf.Tensor | undefined;
    const prof = tf.profile(() => {
      dx = tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 3, 2, 'valid'))(x, dy);
      return dx;
    });
    return prof.then((info) => {
      kernels.push(...info.kernelNames);
      expect(kernels).toContain('FadnetMaxPoolGradTaps');
      expect(kernels).not.toContain('FadnetMaxPoolGrad');
      const y = tf.maxPool(x, 3, 2, 'valid');
      const old = maxPoolGrad(dy, x, y, { filterSize: 3, strides: 2, pad: 'valid' });
      expect(sameBits(dx!.dataSync() as Float32Array, old.dataSync() as Float32Array)).toBe(true);
      tf.dispose([x, dy, dx!, y, old]);
    });
  });

  it('falls back where the kernels do not apply: padding, channels not a multiple of 4', async () => {
    for (const [shape, pad] of [
      [[2, 9, 9, 8], 'same'],
      [[2, 9, 9, 5], 'valid'],
    ] as const) {
      const xv = seeded(
        shape.reduce((a, b) => a * b, 1),
        51,
        6,
      );
      expect(await useBackend('cpu')).toBe(true);
      const yCpu = tf.tidy(
        () => tf.maxPool(tf.tensor4d(xv, [...shape]), 3, 2, pad).dataSync() as Float32Array,
      );
      expect(await useBackend('wasm')).toBe(true);
      const x = tf.tensor4d(xv, [...shape]);
      const y = tf.maxPool(x, 3, 2, pad);
      // The original kernel: the same values, though XNNPACK may pick the other zero of a -0/+0 tie.
      const yv = y.dataSync() as Float32Array;
      expect(yv.every((v, i) => v === yCpu[i])).toBe(true);
      const dy = tf.onesLike(y);
      expect(maxPoolGradFromTaps(dy, x, y, { filterSize: 3, strides: 2, pad })).toBeNull();
      const dx = tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 3, 2, pad))(x, dy);
      expect(dx.shape).toEqual([...shape]);
      tf.dispose([x, y, dy, dx]);
    }
  });

  it('frees the taps with y: no tensor or heap growth over repeated steps', () => {
    const x = tf.tensor4d(seeded(2 * 20 * 20 * 8, 61), [2, 20, 20, 8]);
    const step = (): void => {
      tf.tidy(() => {
        const dx = tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 3, 2, 'valid'))(x);
        dx.dataSync();
      });
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
