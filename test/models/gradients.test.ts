// The wasm backend trains with gradients of its own (tfjs/training: gradients.ts, ops.ts); the CPU
// backend runs tfjs's stock gradient kernels. Both must give the same numbers.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTfjs, useBackend } from '../../models/src/tfjs/backend.ts';
import { registerWasmTrainingKernels } from '../../models/src/tfjs/training/register.ts';
import {
  conv2dFilterGrad,
  conv2dInputGrad,
  maxPoolGrad,
  padsOf,
} from '../../models/src/tfjs/training/gradients.ts';
import { startTsWorker } from '../../models/src/train/ts-worker.ts';
import { maxAbs, relDiff } from '../helpers/compare.ts';
import { fadnetGradients } from '../helpers/fadnet-gradients.ts';
import { seeded } from '../helpers/data.ts';

async function onBackend<T>(name: 'cpu' | 'wasm', f: () => T): Promise<T> {
  expect(await useBackend(name)).toBe(true);
  return f();
}

beforeAll(async () => {
  await initTfjs({ order: ['wasm'], log: () => {} });
  registerWasmTrainingKernels();
});

afterAll(async () => {
  await useBackend('wasm');
});

type Shape4 = [number, number, number, number];

interface ConvCase {
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly stride: number;
  readonly co?: number;
  readonly ci?: number;
}

const convCases: ConvCase[] = [];
for (const stride of [1, 2, 4, 7]) {
  for (const k of [1, 3, 5]) {
    convCases.push({ h: 13, w: 11, k, stride });
    convCases.push({ h: 9, w: 16, k, stride });
  }
}
// Output rows of 64 or more take im2colT's row-by-row path; so do short rows when many output
// channels make the phase grid's extra GEMM columns dear (copied value by value).
convCases.push(
  { h: 7, w: 131, k: 5, stride: 2 },
  { h: 5, w: 130, k: 3, stride: 1 },
  { h: 7, w: 6, k: 3, stride: 1, co: 64 },
  { h: 9, w: 8, k: 3, stride: 2, co: 128 },
);
// Input channels in whole f32x4s: the strided input gradient's phases are placed by the SIMD
// kernel (three input channels take the JavaScript loop).
convCases.push(
  { h: 49, w: 49, k: 3, stride: 2, ci: 32, co: 8 },
  { h: 13, w: 11, k: 3, stride: 2, ci: 4 },
  { h: 14, w: 9, k: 5, stride: 3, ci: 8 },
  { h: 16, w: 16, k: 1, stride: 7, ci: 4 },
);

describe('conv gradient helpers on wasm match the CPU kernels', () => {
  it.each(convCases)('h=$h w=$w k=$k stride=$stride same', async ({ h, w, k, stride, co = 4, ci = 3 }) => {
    const n = 2;
    const xShape: Shape4 = [n, h, w, ci];
    const fShape: Shape4 = [k, k, ci, co];
    const oh = Math.ceil(h / stride);
    const ow = Math.ceil(w / stride);
    const dyShape: Shape4 = [n, oh, ow, co];
    const xv = seeded(n * h * w * ci, 1);
    const fv = seeded(k * k * ci * co, 2);
    const dyv = seeded(n * oh * ow * co, 3);
    const attrs = { strides: [stride, stride], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };

    const [dxCpu, dwCpu] = await onBackend('cpu', () => {
      const dy = tf.tensor4d(dyv, dyShape);
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: tf.tensor4d(fv, fShape) }, {
        ...attrs,
        inputShape: xShape,
      } as unknown as NamedAttrMap) as tf.Tensor;
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, xShape), dy }, {
        ...attrs,
        filterShape: fShape,
      } as unknown as NamedAttrMap) as tf.Tensor;
      return [dx.dataSync() as Float32Array, dw.dataSync() as Float32Array];
    });
    const [dxWasm, dwWasm] = await onBackend('wasm', () => {
      const pads = padsOf('same', h, w, k, k, [stride, stride]);
      const dy = tf.tensor4d(dyv, dyShape);
      const dx = conv2dInputGrad(dy, tf.tensor4d(fv, fShape), xShape, [stride, stride], pads);
      const dw = conv2dFilterGrad(tf.tensor4d(xv, xShape), dy, fShape, [stride, stride], pads);
      expect(dx.shape).toEqual(xShape);
      expect(dw.shape).toEqual(fShape);
      return [dx.dataSync() as Float32Array, dw.dataSync() as Float32Array];
    });
    expect(relDiff(dxWasm, dxCpu), 'input gradient').toBeLessThan(1e-5);
    expect(relDiff(dwWasm, dwCpu), 'filter gradient').toBeLessThan(1e-5);
  });
});

describe('max-pool gradient on wasm matches the CPU kernel', () => {
  const cases = [
    { h: 13, w: 11, k: 3, stride: 2, pad: 'valid' as const },
    { h: 12, w: 9, k: 2, stride: 2, pad: 'same' as const },
    { h: 10, w: 15, k: 3, stride: 1, pad: 'same' as const },
  ];
  it.each(cases)('h=$h w=$w k=$k stride=$stride $pad', async ({ h, w, k, stride, pad }) => {
    const xShape: Shape4 = [2, h, w, 5];
    const xv = seeded(2 * h * w * 5, 4);
    const attrs = { filterSize: k, strides: stride, pad };
    const dxCpu = await onBackend('cpu', () => {
      const x = tf.tensor4d(xv, xShape);
      const y = tf.maxPool(x, k, stride, pad);
      const dy = tf.tensor4d(seeded(y.size, 5), y.shape);
      const dx = tf
        .engine()
        .runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs as unknown as NamedAttrMap);
      return (dx as tf.Tensor).dataSync() as Float32Array;
    });
    const dxWasm = await onBackend('wasm', () => {
      const x = tf.tensor4d(xv, xShape);
      const y = tf.maxPool(x, k, stride, pad);
      const dy = tf.tensor4d(seeded(y.size, 5), y.shape);
      return maxPoolGrad(dy, x, y, attrs).dataSync() as Float32Array;
    });
    expect(relDiff(dxWasm, dxCpu)).toBeLessThan(1e-6);
  });
});

describe('FADNet training gradients: wasm against CPU', () => {
  /** The CPU backend's gradients, computed in a worker thread (see cpu-gradients-worker.ts). */
  function cpuGradients(): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
    const worker = startTsWorker(new URL('../helpers/cpu-gradients-worker.ts', import.meta.url));
    return new Promise<{ loss: number; grads: Map<string, Float32Array> }>((resolve, reject) => {
      worker.once('message', (r: { loss: number; grads: [string, Float32Array][] }) =>
        resolve({ loss: r.loss, grads: new Map(r.grads) }),
      );
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the CPU gradient worker exited with code ${code}`)));
    }).finally(() => void worker.terminate());
  }

  it('agree within 1e-4 of each tensor’s largest gradient', async () => {
    const { loss: cpuLoss, grads: cpu } = await cpuGradients();
    const { loss, grads: wasm } = await onBackend('wasm', fadnetGradients);
    expect(Number.isFinite(cpuLoss)).toBe(true);
    expect(Number.isFinite(loss)).toBe(true);
    expect([...wasm.keys()].sort()).toEqual([...cpu.keys()].sort());
    expect(cpu.size).toBe(42);
    for (const [name, g] of cpu) {
      // A conv bias feeding a training-mode batch norm has a gradient of exactly zero (the
      // norm subtracts any per-channel shift); both backends give rounding noise near 1e-10,
      // so measure it against the same layer's weight gradient instead of against itself.
      const beforeNorm = /^res_block\d\.conv2d\.bias$/.test(name);
      const scale = beforeNorm ? maxAbs(cpu.get(name.replace(/bias$/, 'weight'))!) : maxAbs(g);
      expect(relDiff(wasm.get(name)!, g, scale), name).toBeLessThan(1e-4);
    }
  }, 100_000);
});
