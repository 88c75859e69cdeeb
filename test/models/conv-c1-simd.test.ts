// The SIMD FusedConv2D of a one-channel input (models/src/tfjs/training/simd/conv-c1.wat), which the wasm
// backend runs for the network's conv1, against the CPU backend's conv2d plus bias; and the
// convolutions it hands back to the original kernel.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initTfjs, useBackend } from '../../models/src/tfjs/backend.ts';
import { registerWasmTrainingKernels } from '../../models/src/tfjs/training/register.ts';
import { convC1 } from '../../models/src/tfjs/training/simd/conv-c1.ts';
import { mulberry32 } from '../../common/index.ts';
import { relDiff } from '../helpers/compare.ts';

type Pad = 'same' | 'valid' | number;

interface Case {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c?: number;
  readonly kh: number;
  readonly kw: number;
  readonly co: number;
  readonly stride: number | [number, number];
  readonly pad: Pad;
  readonly bias: boolean;
  readonly activation?: 'linear' | 'relu';
  readonly dilation?: number;
}

function uniform(size: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: size }, () => 2 * next() - 1);
}

/**
 * Values in the NHWC output of `c`, from the convolution arithmetic: TF's rules for 'same' and
 * 'valid'; with explicit padding tfjs sizes both sides from the filter height and the row
 * stride (conv_util's computeOutputShape2D), and the kernel must produce that shape too.
 */
function outputSize(c: Case): number {
  const [sh, sw] = typeof c.stride === 'number' ? [c.stride, c.stride] : c.stride;
  const d = c.dilation ?? 1;
  const side = (size: number, k: number, s: number): number => {
    const reach = (k - 1) * d + 1;
    if (c.pad === 'same') return Math.ceil(size / s);
    if (c.pad === 'valid') return Math.ceil((size - reach + 1) / s);
    return Math.trunc((size - c.kh + 2 * c.pad) / sh + 1);
  };
  return c.n * side(c.h, c.kh, sh) * side(c.w, c.kw, sw) * c.co;
}

/** The convolution of `c` on the current backend, through tf.fused.conv2d as the network calls it. */
function fused(c: Case, xv: Float32Array, fv: Float32Array, bv: Float32Array): Float32Array {
  return tf.tidy(
    () =>
      tf.fused
        .conv2d({
          x: tf.tensor4d(xv, [c.n, c.h, c.w, c.c ?? 1]),
          filter: tf.tensor4d(fv, [c.kh, c.kw, c.c ?? 1, c.co]),
          ...(c.bias ? { bias: tf.tensor1d(bv) } : {}),
          strides: c.stride,
          pad: c.pad,
          dilations: c.dilation ?? 1,
          activation: c.activation ?? 'linear',
        })
        .dataSync() as Float32Array,
  );
}

/** The CPU backend's plain conv2d, bias and activation as separate ops. */
function reference(c: Case, xv: Float32Array, fv: Float32Array, bv: Float32Array): Float32Array {
  return tf.tidy(() => {
    let y: tf.Tensor = tf.conv2d(
      tf.tensor4d(xv, [c.n, c.h, c.w, c.c ?? 1]),
      tf.tensor4d(fv, [c.kh, c.kw, c.c ?? 1, c.co]),
      c.stride,
      c.pad,
      'NHWC',
      c.dilation ?? 1,
    );
    if (c.bias) y = tf.add(y, tf.tensor1d(bv));
    if (c.activation === 'relu') y = tf.relu(y);
    return y.dataSync() as Float32Array;
  });
}

/** The wasm result, the CPU reference, and whether the SIMD kernel computed the former. */
async function compare(c: Case): Promise<{ simd: boolean; diff: number; size: number }> {
  const xv = uniform(c.n * c.h * c.w * (c.c ?? 1), 1);
  const fv = uniform(c.kh * c.kw * (c.c ?? 1) * c.co, 2);
  const bv = uniform(c.co, 3);
  expect(await useBackend('cpu')).toBe(true);
  const expected = reference(c, xv, fv, bv);
  expect(await useBackend('wasm')).toBe(true);
  const kernels = convC1(tf.backend());
  expect(kernels).not.toBeNull();
  const spy = vi.spyOn(kernels!, 'conv');
  const actual = fused(c, xv, fv, bv);
  const simd = spy.mock.calls.length > 0;
  spy.mockRestore();
  return { simd, diff: relDiff(actual, expected), size: actual.length };
}

beforeAll(async () => {
  await initTfjs({ order: ['wasm'], log: () => {} });
  registerWasmTrainingKernels();
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await useBackend('wasm');
});

describe('SIMD FusedConv2D of one input channel', () => {
  const cases: Case[] = [
    { n: 2, h: 200, w: 200, kh: 5, kw: 5, co: 32, stride: 2, pad: 'same', bias: true }, // conv1
    { n: 1, h: 200, w: 200, kh: 5, kw: 5, co: 32, stride: 2, pad: 'same', bias: false },
    { n: 3, h: 13, w: 11, kh: 5, kw: 5, co: 32, stride: 2, pad: 'same', bias: true },
    { n: 3, h: 9, w: 16, kh: 3, kw: 3, co: 16, stride: 1, pad: 'same', bias: false },
    { n: 1, h: 17, w: 14, kh: 3, kw: 3, co: 32, stride: 1, pad: 'same', bias: true },
    { n: 3, h: 12, w: 15, kh: 3, kw: 3, co: 32, stride: 2, pad: 'valid', bias: true },
    { n: 1, h: 21, w: 19, kh: 5, kw: 5, co: 32, stride: 1, pad: 'valid', bias: false },
    // Channels left over after the 16-channel blocks: 4, 8 and 12 of them.
    { n: 2, h: 11, w: 10, kh: 5, kw: 5, co: 20, stride: 2, pad: 'same', bias: true },
    { n: 1, h: 7, w: 9, kh: 3, kw: 3, co: 8, stride: 1, pad: 'same', bias: true },
    { n: 2, h: 10, w: 13, kh: 3, kw: 3, co: 44, stride: 2, pad: 'valid', bias: false },
    // Unequal window sides and strides, explicit padding, a large stride.
    { n: 2, h: 15, w: 12, kh: 3, kw: 5, co: 16, stride: [1, 2], pad: 'same', bias: true },
    { n: 1, h: 10, w: 11, kh: 4, kw: 2, co: 32, stride: [2, 1], pad: 2, bias: true },
    { n: 2, h: 17, w: 14, kh: 5, kw: 5, co: 32, stride: 3, pad: 'same', bias: false },
    // A one-pixel output row (no pair to block) and windows wider than the input.
    { n: 1, h: 5, w: 1, kh: 3, kw: 3, co: 32, stride: 1, pad: 'same', bias: true },
    { n: 1, h: 3, w: 3, kh: 5, kw: 5, co: 32, stride: 2, pad: 'same', bias: true },
    // Windows that see only padding: the output is the bias alone.
    { n: 1, h: 2, w: 2, kh: 1, kw: 1, co: 4, stride: 1, pad: 2, bias: true },
  ];

  it.each(cases)(
    'n=$n h=$h w=$w k=$kh x $kw co=$co stride=$stride pad=$pad bias=$bias matches the CPU backend',
    async (c) => {
      const { simd, diff, size } = await compare(c);
      expect(simd).toBe(true);
      expect(size).toBe(outputSize(c));
      expect(diff).toBeLessThan(1e-5);
    },
  );
});

describe('FusedConv2D cases left to the original kernel', () => {
  const cases: (Case & { why: string })[] = [
    {
      why: 'three input channels',
      n: 2,
      h: 9,
      w: 8,
      c: 3,
      kh: 3,
      kw: 3,
      co: 32,
      stride: 1,
      pad: 'same',
      bias: true,
    },
    {
      why: 'channels not a multiple of 4',
      n: 1,
      h: 9,
      w: 8,
      kh: 3,
      kw: 3,
      co: 6,
      stride: 2,
      pad: 'same',
      bias: true,
    },
    {
      why: 'a fused relu',
      n: 2,
      h: 10,
      w: 9,
      kh: 5,
      kw: 5,
      co: 32,
      stride: 2,
      pad: 'same',
      bias: true,
      activation: 'relu',
    },
    {
      why: 'dilation',
      n: 1,
      h: 12,
      w: 12,
      kh: 3,
      kw: 3,
      co: 32,
      stride: 1,
      pad: 'same',
      bias: false,
      dilation: 2,
    },
  ];

  it.each(cases)('$why: same result as the CPU backend, without the SIMD kernel', async (c) => {
    const { simd, diff } = await compare(c);
    expect(simd).toBe(false);
    expect(diff).toBeLessThan(1e-5);
  });
});
