// batchNormRelu on the WebAssembly SIMD kernels (simd/batch-norm.wat) against the tfjs-op path
// on the CPU backend: forward output and statistics, and the gradients of x, gamma and beta,
// alone and with a replica all-reduce; and the blocked channel sums against float64 sums.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTfjs, useBackend } from '../../models/src/tfjs/backend.ts';
import type { ReplicaSum } from '../../models/src/fadnet/ops.ts';
import { channelSumsOp, hasBatchNormSimd } from '../../models/src/tfjs/training/batch-norm-kernels.ts';
import { batchNormRelu } from '../../models/src/tfjs/training/ops.ts';
import { registerWasmTrainingKernels } from '../../models/src/tfjs/training/register.ts';
import { relDiff } from '../helpers/compare.ts';

type Shape4 = [number, number, number, number];

/** Deterministic values in [offset - spread, offset + spread). */
function seeded(size: number, seed: number, spread = 1, offset = 0): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = offset + spread * (s / 2 ** 31 - 1);
  }
  return out;
}

interface Result {
  y: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  count: number;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

/** Forward and backward of batchNormRelu for dy on the current backend. */
function run(shape: Shape4, seed: number, offset: number, replicas?: ReplicaSum): Result {
  const size = shape.reduce((a, b) => a * b, 1);
  const c = shape[3];
  const x = tf.tensor4d(seeded(size, seed, 2, offset), shape);
  const gamma = tf.tensor1d(seeded(c, seed + 1, 0.5, 1));
  const beta = tf.tensor1d(seeded(c, seed + 2, 0.5));
  const dy = tf.tensor4d(seeded(size, seed + 3), shape);
  const held: tf.Tensor[] = [];
  let y: Float32Array | undefined;
  let stats: { mean: Float32Array; variance: Float32Array; count: number } | undefined;
  const f = (xv: tf.Tensor, gv: tf.Tensor, bv: tf.Tensor): tf.Tensor => {
    const r = batchNormRelu(xv as tf.Tensor4D, gv as tf.Tensor1D, bv as tf.Tensor1D, 1e-5, replicas);
    held.push(r.stats.mean, r.stats.variance);
    y = r.y.dataSync() as Float32Array;
    stats = {
      mean: r.stats.mean.dataSync() as Float32Array,
      variance: r.stats.variance.dataSync() as Float32Array,
      count: r.stats.count,
    };
    return r.y;
  };
  const [dx, dgamma, dbeta] = tf.grads(f)([x, gamma, beta], dy);
  const out: Result = {
    y: y!,
    ...stats!,
    dx: dx!.dataSync() as Float32Array,
    dgamma: dgamma!.dataSync() as Float32Array,
    dbeta: dbeta!.dataSync() as Float32Array,
  };
  tf.dispose([x, gamma, beta, dy, dx!, dgamma!, dbeta!, ...held]);
  return out;
}

async function on(name: 'cpu' | 'wasm', f: () => Result): Promise<Result> {
  expect(await useBackend(name)).toBe(true);
  return f();
}

function expectClose(a: Result, b: Result, tol: number): void {
  expect(a.count).toBe(b.count);
  expect(relDiff(a.y, b.y)).toBeLessThan(tol);
  expect(relDiff(a.mean, b.mean)).toBeLessThan(tol);
  expect(relDiff(a.variance, b.variance)).toBeLessThan(tol);
  expect(relDiff(a.dx, b.dx)).toBeLessThan(tol);
  expect(relDiff(a.dgamma, b.dgamma)).toBeLessThan(tol);
  expect(relDiff(a.dbeta, b.dbeta)).toBeLessThan(tol);
}

/** The all-reduce of two replicas that hold the same slice: every sum doubled. */
const twin: ReplicaSum = { sum: (v) => Float64Array.from(v, (s) => 2 * s) };

beforeAll(async () => {
  await initTfjs({ order: ['wasm'], log: () => {} });
  registerWasmTrainingKernels();
});

afterAll(async () => {
  await useBackend('wasm');
});

// The network's shapes with smaller batches, odd row counts (not a multiple of the kernels' 4
// interleaved rows or 64-row blocks), more than 64 blocks (4802 rows), and a 4-channel tensor.
const cases: { shape: Shape4; offset: number }[] = [
  { shape: [2, 49, 49, 32], offset: 0 },
  { shape: [3, 25, 25, 32], offset: 3 },
  { shape: [4, 13, 13, 64], offset: -1 },
  { shape: [5, 7, 7, 128], offset: 0.5 },
  { shape: [1, 3, 5, 12], offset: 2 },
  { shape: [2, 1, 3, 4], offset: 0 },
];

describe('batchNormRelu on the SIMD kernels', () => {
  it('run on the wasm backend for multiples of 4 channels only', async () => {
    expect(await useBackend('wasm')).toBe(true);
    expect(hasBatchNormSimd(32)).toBe(true);
    expect(hasBatchNormSimd(4)).toBe(true);
    expect(hasBatchNormSimd(6)).toBe(false);
    expect(await useBackend('cpu')).toBe(true);
    expect(hasBatchNormSimd(32)).toBe(false);
  });

  it.each(cases.map((k) => [k.shape.join('x'), k] as const))(
    '%s: forward and gradients match the CPU op-by-op path',
    async (_name, { shape, offset }) => {
      const cpu = await on('cpu', () => run(shape, 11, offset));
      const simd = await on('wasm', () => run(shape, 11, offset));
      expectClose(simd, cpu, 2e-5);
    },
  );

  it.each(cases.slice(1, 5).map((k) => [k.shape.join('x'), k] as const))(
    '%s: with a replica all-reduce, match the CPU path and the batch of one replica',
    async (_name, { shape, offset }) => {
      const cpu = await on('cpu', () => run(shape, 5, offset, twin));
      const simd = await on('wasm', () => run(shape, 5, offset, twin));
      expectClose(simd, cpu, 2e-5);
      // Twin replicas have the statistics and gradients of one (over twice the count).
      const alone = await on('wasm', () => run(shape, 5, offset));
      expect(simd.count).toBe(2 * alone.count);
      expectClose({ ...simd, count: alone.count }, alone, 2e-5);
    },
  );

  it('fall back to the tfjs ops on wasm for other channel counts', async () => {
    const shape: Shape4 = [2, 5, 3, 6];
    const cpu = await on('cpu', () => run(shape, 3, 1));
    const wasm = await on('wasm', () => run(shape, 3, 1));
    expectClose(wasm, cpu, 2e-5);
  });
});

describe('SIMD channel sums', () => {
  it('keep float32 rounding near a float64 sum over 77k rows', async () => {
    expect(await useBackend('wasm')).toBe(true);
    const shape: Shape4 = [32, 49, 49, 32];
    // All positive, so no cancellation hides the rounding of the sums.
    const values = seeded(32 * 49 * 49 * 32, 9, 1, 1);
    const exact = new Float64Array(32);
    for (let i = 0; i < values.length; i++) exact[i % 32] = exact[i % 32]! + values[i]!;
    const sums = tf.tidy(() => channelSumsOp(tf.tensor4d(values, shape)).dataSync() as Float32Array);
    // A running float32 sum of these 77k values per channel is off by up to 1.5e-5.
    for (let ch = 0; ch < 32; ch++) expect(Math.abs(sums[ch]! - exact[ch]!) / exact[ch]!).toBeLessThan(1e-6);
  });
});
