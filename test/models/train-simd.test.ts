// The SIMD training kernels (models/src/tfjs/training/simd/) against references: conv1's filter gradient
// against the CPU backend's Conv2DBackpropFilter, the max-pool gradient against the rule the
// JavaScript kernel implements, im2col against a plain gather and the JavaScript phase grid,
// and the committed .wasm against its source.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTfjs, useBackend } from '../../models/src/tfjs/backend.ts';
import {
  filterGradC1x32Op,
  hasSimdIm2col,
  hasTrainSimd,
  im2colTOp,
  phaseGrid,
} from '../../models/src/tfjs/training/gradient-kernels.ts';
import { conv2dFilterGrad, maxPoolGrad, padsOf } from '../../models/src/tfjs/training/gradients.ts';
import { registerWasmTrainingKernels } from '../../models/src/tfjs/training/register.ts';
import { maxPoolGradReference, seeded } from '../helpers/data.ts';

type Shape4 = [number, number, number, number];

/** max |a - b| / max |b|. */
function relDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

beforeAll(async () => {
  await initTfjs({ order: ['wasm'], log: () => {} });
  registerWasmTrainingKernels();
});

afterAll(async () => {
  await useBackend('wasm');
});

describe('SIMD filter gradient of a 1 -> 32 channel convolution', () => {
  const cases = [
    { n: 2, h: 200, w: 200, k: 5, stride: 2, pad: 'same' as const }, // conv1
    { n: 3, h: 13, w: 11, k: 5, stride: 2, pad: 'same' as const },
    { n: 2, h: 9, w: 16, k: 3, stride: 1, pad: 'same' as const },
    { n: 2, h: 17, w: 14, k: 5, stride: 3, pad: 'same' as const },
    { n: 2, h: 12, w: 15, k: 3, stride: 2, pad: 'valid' as const },
    { n: 1, h: 3, w: 3, k: 5, stride: 2, pad: 'same' as const }, // taps that see only padding
  ];

  it.each(cases)('n=$n h=$h w=$w k=$k stride=$stride $pad matches the CPU kernel', async (c) => {
    const oh = c.pad === 'same' ? Math.ceil(c.h / c.stride) : Math.ceil((c.h - c.k + 1) / c.stride);
    const ow = c.pad === 'same' ? Math.ceil(c.w / c.stride) : Math.ceil((c.w - c.k + 1) / c.stride);
    const xShape: Shape4 = [c.n, c.h, c.w, 1];
    const dyShape: Shape4 = [c.n, oh, ow, 32];
    const fShape: Shape4 = [c.k, c.k, 1, 32];
    const xv = seeded(c.n * c.h * c.w, 11);
    const dyv = seeded(c.n * oh * ow * 32, 12);

    expect(await useBackend('cpu')).toBe(true);
    const reference = (
      tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, xShape), dy: tf.tensor4d(dyv, dyShape) }, {
          strides: [c.stride, c.stride],
          pad: c.pad,
          dataFormat: 'NHWC',
          dimRoundingMode: undefined,
          filterShape: fShape,
        } as unknown as NamedAttrMap) as tf.Tensor
    ).dataSync() as Float32Array;

    expect(await useBackend('wasm')).toBe(true);
    expect(hasTrainSimd()).toBe(true);
    const x = tf.tensor4d(xv, xShape);
    const dy = tf.tensor4d(dyv, dyShape);
    const p = padsOf(c.pad, c.h, c.w, c.k, c.k, [c.stride, c.stride]);
    const geometry = { kh: c.k, kw: c.k, sh: c.stride, sw: c.stride, top: p.top, left: p.left };
    const direct = filterGradC1x32Op(x, dy, geometry);
    const viaHelper = conv2dFilterGrad(x, dy, fShape, [c.stride, c.stride], p);
    expect(direct.shape).toEqual(fShape);
    const simd = direct.dataSync() as Float32Array;
    expect(relDiff(simd, reference)).toBeLessThan(1e-5);
    // conv2dFilterGrad takes the SIMD kernel for this shape.
    expect(viaHelper.dataSync()).toEqual(simd);
    tf.dispose([x, dy, direct, viaHelper]);
  });

  it('rejects operands that are not one channel in and 32 out', () => {
    const x = tf.zeros([1, 8, 8, 2]) as tf.Tensor4D;
    const dy = tf.zeros([1, 4, 4, 32]) as tf.Tensor4D;
    expect(() => filterGradC1x32Op(x, dy, { kh: 3, kw: 3, sh: 2, sw: 2, top: 0, left: 0 })).toThrow(
      'FadnetFilterGradC1x32: x [1,8,8,2] and dy [1,4,4,32] are not [N,H,W,1] and [N,OH,OW,32]',
    );
    tf.dispose([x, dy]);
  });
});

describe('SIMD max-pool gradient', () => {
  const cases = [
    { n: 2, h: 100, w: 100, c: 32, k: 3, stride: 2 }, // after conv1
    { n: 2, h: 13, w: 11, c: 8, k: 3, stride: 2 },
    { n: 1, h: 10, w: 9, c: 4, k: 2, stride: 1 },
    { n: 2, h: 11, w: 12, c: 12, k: 3, stride: 3 },
  ];

  it.each(cases)('n=$n h=$h w=$w c=$c k=$k stride=$stride valid: the same bits as the reference', (c) => {
    expect(hasTrainSimd()).toBe(true);
    const xShape: Shape4 = [c.n, c.h, c.w, c.c];
    // Few levels: many windows hold their maximum twice, so the tie rule matters.
    const xv = seeded(c.n * c.h * c.w * c.c, 21, 8);
    xv[5] = Number.NaN; // a window whose pooled value no element equals, or a NaN maximum
    const x = tf.tensor4d(xv, xShape);
    const y = tf.maxPool(x, c.k, c.stride, 'valid');
    const dy = tf.tensor4d(seeded(y.size, 22), y.shape);
    const dx = maxPoolGrad(dy, x, y, { filterSize: c.k, strides: c.stride, pad: 'valid' });
    const expected = maxPoolGradReference(
      xv,
      xShape,
      y.dataSync() as Float32Array,
      dy.dataSync() as Float32Array,
      [y.shape[1], y.shape[2]],
      c.k,
      c.stride,
    );
    expect(dx.shape).toEqual(xShape);
    expect(Buffer.from((dx.dataSync() as Float32Array).buffer).equals(Buffer.from(expected.buffer))).toBe(
      true,
    );
    tf.dispose([x, y, dy, dx]);
  });
});

/** im2colT's plain grid written plainly: row (a,b,ch), column (bn,i,j), zero outside x. */
function im2colReference(
  x: Float32Array,
  [n, h, w, c]: Shape4,
  k: number,
  s: number,
  [top, left]: [number, number],
  [oh, ow]: [number, number],
): Float32Array {
  const cols = n * oh * ow;
  const out = new Float32Array(k * k * c * cols);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      for (let ch = 0; ch < c; ch++) {
        for (let bn = 0; bn < n; bn++) {
          for (let i = 0; i < oh; i++) {
            for (let j = 0; j < ow; j++) {
              const r = i * s + a - top;
              const q = j * s + b - left;
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              out[((a * k + b) * c + ch) * cols + (bn * oh + i) * ow + j] =
                x[((bn * h + r) * w + q) * c + ch]!;
            }
          }
        }
      }
    }
  }
  return out;
}

describe('SIMD im2col on the plain grid', () => {
  const cases = [
    { n: 2, h: 25, w: 25, c: 32, k: 3, stride: 1, pad: 'same' as const }, // the 25 x 25 layers
    { n: 2, h: 13, w: 11, c: 8, k: 3, stride: 2, pad: 'same' as const },
    { n: 1, h: 9, w: 16, c: 4, k: 5, stride: 1, pad: 'same' as const },
    { n: 2, h: 17, w: 14, c: 12, k: 5, stride: 3, pad: 'same' as const },
    { n: 2, h: 12, w: 15, c: 4, k: 3, stride: 2, pad: 'valid' as const },
    { n: 1, h: 3, w: 2, c: 8, k: 5, stride: 2, pad: 'same' as const }, // taps that see only padding
  ];

  it.each(cases)(
    'n=$n h=$h w=$w c=$c k=$k stride=$stride $pad: the same bits as the gather and the phase grid',
    async (t) => {
      expect(await useBackend('wasm')).toBe(true);
      expect(hasSimdIm2col(t.c)).toBe(true);
      const oh = t.pad === 'same' ? Math.ceil(t.h / t.stride) : Math.ceil((t.h - t.k + 1) / t.stride);
      const ow = t.pad === 'same' ? Math.ceil(t.w / t.stride) : Math.ceil((t.w - t.k + 1) / t.stride);
      const xShape: Shape4 = [t.n, t.h, t.w, t.c];
      const xv = seeded(t.n * t.h * t.w * t.c, 21);
      const p = padsOf(t.pad, t.h, t.w, t.k, t.k, [t.stride, t.stride]);
      const grid = { kh: t.k, kw: t.k, sh: t.stride, sw: t.stride, top: p.top, left: p.left, oh, ow };
      const x = tf.tensor4d(xv, xShape);
      const plain = im2colTOp(x, { ...grid, compact: true });
      const phased = im2colTOp(x, { ...grid, compact: false });
      const cols = t.n * oh * ow;
      expect(plain.shape).toEqual([t.k * t.k * t.c, cols]);
      const got = plain.dataSync() as Float32Array;
      expect(got).toEqual(im2colReference(xv, xShape, t.k, t.stride, [p.top, p.left], [oh, ow]));
      // The JavaScript kernel's phase grid, cropped to OH x OW, holds the same values.
      const [pu, pv] = phaseGrid(grid);
      const cropped = tf.tidy(() =>
        tf.reshape(
          tf.slice(tf.reshape(phased, [t.k * t.k * t.c, t.n, pu, pv]), [0, 0, 0, 0], [-1, -1, oh, ow]),
          [t.k * t.k * t.c, cols],
        ),
      );
      expect(got).toEqual(cropped.dataSync());
      tf.dispose([x, plain, phased, cropped]);
    },
  );
});
