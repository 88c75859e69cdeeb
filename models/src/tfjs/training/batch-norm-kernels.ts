// The batch norm + ReLU SIMD kernels (simd/batch-norm.wat) as tfjs kernels of the wasm backend,
// like the other training kernels (gradient-kernels.ts): each reads its inputs as views
// of the backend's heap and writes into an output tensor allocated there. ops.ts composes them
// into batchNormRelu's forward and backward passes.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapKernel, runKernel, type HeapBackend } from './heap-backend.ts';
import { batchNormSimd, type BatchNormSimd } from './simd/batch-norm.ts';

/** Rows (N*H*W) and channels of an NHWC tensor. */
function rowsOf(x: TensorInfo): [number, number] {
  const c = x.shape[x.shape.length - 1]!;
  return [x.shape.reduce((a, b) => a * b, 1) / c, c];
}

function kernelsOf(backend: HeapBackend): BatchNormSimd {
  const simd = batchNormSimd(backend.backend);
  if (simd === null)
    throw new Error('batch norm kernels need WebAssembly SIMD; check hasBatchNormSimd() first');
  return simd;
}

/**
 * A per-channel reduction into a new [floats] tensor, with a scratch tensor of as many floats
 * that is freed afterwards. Views are taken after both allocations: an allocation may grow the
 * heap and detach older views.
 */
function reduce(
  backend: HeapBackend,
  floats: number,
  run: (view: (t: TensorInfo) => Float32Array, out: Float32Array, scratch: Float32Array) => void,
): TensorInfo {
  const outInfo = backend.makeOutput([floats]);
  const scratchInfo = backend.makeOutput([floats]);
  try {
    const view = (t: TensorInfo): Float32Array => backend.view(t);
    run(view, view(outInfo), view(scratchInfo));
  } finally {
    backend.disposeData(scratchInfo.dataId);
  }
  return outInfo;
}

const CHANNEL_SUMS = 'FadnetBnChannelSums';
const SQUARED_DEVIATIONS = 'FadnetBnSquaredDeviations';
const SCALE_SHIFT_RELU = 'FadnetBnScaleShiftRelu';
const GRAD_SUMS = 'FadnetBnGradSums';
const INPUT_GRAD = 'FadnetBnInputGrad';

/** The kernels of this file, for register.ts. */
export function batchNormKernels(): KernelConfig[] {
  const kernel = (
    kernelName: string,
    f: (inputs: NamedTensorInfoMap, backend: HeapBackend) => TensorInfo,
  ): KernelConfig => heapKernel(kernelName, (inputs, _attrs, backend) => f(inputs, backend));
  return [
    kernel(CHANNEL_SUMS, ({ x }, backend) => {
      const [rows, c] = rowsOf(x!);
      return reduce(backend, c, (view, out, scratch) =>
        kernelsOf(backend).channelSums(view(x!), rows, c, out, scratch),
      );
    }),
    kernel(SQUARED_DEVIATIONS, ({ x, mean }, backend) => {
      const [rows, c] = rowsOf(x!);
      return reduce(backend, c, (view, out, scratch) =>
        kernelsOf(backend).squaredDeviations(view(x!), view(mean!), rows, c, out, scratch),
      );
    }),
    kernel(SCALE_SHIFT_RELU, ({ x, scaleShift }, backend) => {
      const [rows, c] = rowsOf(x!);
      const outInfo = backend.makeOutput([...x!.shape]);
      const view = (t: TensorInfo): Float32Array => backend.view(t);
      kernelsOf(backend).scaleShiftRelu(view(x!), view(scaleShift!), rows, c, view(outInfo));
      return outInfo;
    }),
    kernel(GRAD_SUMS, ({ x, y, dy, mean }, backend) => {
      const [rows, c] = rowsOf(x!);
      return reduce(backend, 2 * c, (view, out, scratch) =>
        kernelsOf(backend).gradSums(view(x!), view(y!), view(dy!), view(mean!), rows, c, out, scratch),
      );
    }),
    kernel(INPUT_GRAD, ({ x, y, dy, coef }, backend) => {
      const [rows, c] = rowsOf(x!);
      const outInfo = backend.makeOutput([...x!.shape]);
      const view = (t: TensorInfo): Float32Array => backend.view(t);
      kernelsOf(backend).inputGrad(view(x!), view(y!), view(dy!), view(coef!), rows, c, view(outInfo));
      return outInfo;
    }),
  ];
}

/**
 * Whether the batch norm kernels run on the current backend (the wasm backend, with SIMD) for
 * `c` channels.
 */
export function hasBatchNormSimd(c: number): boolean {
  return (
    c > 0 &&
    c % 4 === 0 &&
    tf.getBackend() === 'wasm' &&
    tf.getKernel(CHANNEL_SUMS, 'wasm') !== undefined &&
    batchNormSimd(tf.backend()) !== null
  );
}

function run<T extends tf.Tensor>(name: string, inputs: Record<string, tf.Tensor>): T {
  return runKernel<T>(name, inputs);
}

/** Per-channel sums over N,H,W of x [N,H,W,C]; only where hasBatchNormSimd(C). */
export function channelSumsOp(x: tf.Tensor4D): tf.Tensor1D {
  return run(CHANNEL_SUMS, { x });
}

/** Per-channel sums of (x - mean)^2 over N,H,W; only where hasBatchNormSimd(C). */
export function squaredDeviationsOp(x: tf.Tensor4D, mean: tf.Tensor1D): tf.Tensor1D {
  return run(SQUARED_DEVIATIONS, { x, mean });
}

/** relu(x * scale + shift) per channel, `scaleShift` = [scale | shift] (2C); only where hasBatchNormSimd(C). */
export function scaleShiftReluOp(x: tf.Tensor4D, scaleShift: tf.Tensor1D): tf.Tensor4D {
  return run(SCALE_SHIFT_RELU, { x, scaleShift });
}

/**
 * [sum g | sum g * (x - mean)] per channel (2C), g = dy where y > 0, else 0; `mean` may be longer
 * than C (its first C values are read). Only where hasBatchNormSimd(C).
 */
export function gradSumsOp(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, mean: tf.Tensor1D): tf.Tensor1D {
  return run(GRAD_SUMS, { x, y, dy, mean });
}

/**
 * g * p - (x - mean) * q - k per channel, g as in gradSumsOp, `coef` = [mean | p | q | k] (4C).
 * Only where hasBatchNormSimd(C).
 */
export function inputGradOp(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, coef: tf.Tensor1D): tf.Tensor4D {
  return run(INPUT_GRAD, { x, y, dy, coef });
}
