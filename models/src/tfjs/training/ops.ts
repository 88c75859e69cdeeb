// FADNet's op set for training on the WebAssembly backend (see fadnet/ops.ts). tfjs
// differentiates a layer op by op: a batch norm becomes a dozen full-size elementwise kernels
// and copies in the backward pass, and a convolution's bias is a separate full-size add. Here
// each layer is one custom-gradient op whose forward uses the backend's fast kernels
// (FusedConv2D with bias; batch norm on the SIMD kernels, or as a broadcast scale and shift)
// and whose backward is the closed form. The math is the same as the op-by-op graph; only the
// rounding differs. Asking for this op set installs the wasm training kernels (register.ts).
import * as tf from '@tensorflow/tfjs-core';
import {
  allSum,
  batchNormReluOp,
  concat,
  custom,
  TFJS_OPS,
  type BatchStats,
  type FadnetOps,
  type ReplicaSum,
} from '../../fadnet/ops.ts';
import {
  channelSumsOp,
  gradSumsOp,
  hasBatchNormSimd,
  inputGradOp,
  scaleShiftReluOp,
  squaredDeviationsOp,
} from './batch-norm-kernels.ts';
import { conv2dFilterGrad, conv2dInputGrad, padsOf } from './gradients.ts';
import { registerWasmTrainingKernels } from './register.ts';

/**
 * conv2d(x, w, 'same', stride) + b. With `inputGrad` false, x is treated as data (the network's
 * input): no gradient is computed for it, which saves the largest input gradient of all.
 */
export function convBias(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D,
  stride: number,
  inputGrad: boolean,
): tf.Tensor4D {
  const strides: [number, number] = [stride, stride];
  const forward = (xv: tf.Tensor4D, wv: tf.Tensor4D, bv: tf.Tensor1D): tf.Tensor4D =>
    tf.fused.conv2d({ x: xv, filter: wv, bias: bv, strides, pad: 'same' });
  const grads = (dy: tf.Tensor4D, xv: tf.Tensor4D, wv: tf.Tensor4D): tf.Tensor[] => {
    const [kh, kw] = wv.shape;
    const pads = padsOf('same', xv.shape[1], xv.shape[2], kh, kw, strides);
    const dw = conv2dFilterGrad(xv, dy, wv.shape, strides, pads);
    const db = tf.sum(dy, [0, 1, 2]);
    return inputGrad ? [conv2dInputGrad(dy, wv, xv.shape, strides, pads), dw, db] : [dw, db];
  };
  if (inputGrad) {
    return custom((xv, wv, bv, save) => {
      (save as tf.GradSaveFunc)([xv as tf.Tensor, wv as tf.Tensor]);
      return {
        value: forward(xv as tf.Tensor4D, wv as tf.Tensor4D, bv as tf.Tensor1D),
        gradFunc: (dy, [xs, ws]) => grads(dy as tf.Tensor4D, xs as tf.Tensor4D, ws as tf.Tensor4D),
      };
    })(x, w, b) as tf.Tensor4D;
  }
  return custom((wv, bv, save) => {
    (save as tf.GradSaveFunc)([wv as tf.Tensor]);
    return {
      value: forward(x, wv as tf.Tensor4D, bv as tf.Tensor1D),
      gradFunc: (dy, [ws]) => grads(dy as tf.Tensor4D, x, ws as tf.Tensor4D),
    };
  })(w, b) as tf.Tensor4D;
}

/**
 * batchNormRelu on the WebAssembly SIMD kernels (batch-norm-kernels.ts): the forward in three
 * passes over x and the backward in two, where the op-by-op graph makes about fifteen. The math
 * and the all-reduce points are those of the tfjs-op path below; the per-channel vectors
 * between the passes (C values) are computed in JavaScript in float64 from the sums read back.
 */
function batchNormReluSimd(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  replicas: ReplicaSum | undefined,
): { y: tf.Tensor4D; stats: BatchStats } {
  const c = x.shape[3];
  const local = x.shape[0] * x.shape[1] * x.shape[2];
  let stats: BatchStats | undefined;
  const op = custom((xv, gv, bv, save) => {
    const xs = xv as tf.Tensor4D;
    // The count rides along with the sums: replicas may hold slices of different sizes.
    const sums = allSum(concat(channelSumsOp(xs).dataSync(), [local]), replicas);
    const count = sums[c]!;
    const meanValues = Float32Array.from({ length: c }, (_, ch) => sums[ch]! / count);
    const mean = tf.tensor1d(meanValues);
    // Two passes (the squared deviations from the all-reduced mean), so no cancellation of
    // E[x^2] - E[x]^2.
    const squares = allSum(squaredDeviationsOp(xs, mean).dataSync(), replicas);
    const varValues = Float32Array.from({ length: c }, (_, ch) => squares[ch]! / count);
    const variance = tf.tensor1d(varValues);
    stats = { mean: tf.keep(mean), variance: tf.keep(variance), count };
    const g = (gv as tf.Tensor1D).dataSync();
    const b = (bv as tf.Tensor1D).dataSync();
    // coef = [mean | invStd | scale], saved for the backward pass; scaleShift = [scale | shift].
    const coef = new Float32Array(3 * c);
    const scaleShift = new Float32Array(2 * c);
    for (let ch = 0; ch < c; ch++) {
      const invStd = 1 / Math.sqrt(varValues[ch]! + epsilon);
      const scale = Math.fround(g[ch]! * invStd);
      coef[ch] = meanValues[ch]!;
      coef[c + ch] = invStd;
      coef[2 * c + ch] = scale;
      scaleShift[ch] = scale;
      scaleShift[c + ch] = b[ch]! - meanValues[ch]! * scale;
    }
    const coefT = tf.tensor1d(coef);
    const y = scaleShiftReluOp(xs, tf.tensor1d(scaleShift));
    (save as tf.GradSaveFunc)([xs, y, coefT]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sy, sCoef] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D];
        const fwd = sCoef.dataSync();
        // [sum g | sum g * (x - mean)], g = dy through the ReLU; gamma's sum is g * xhat.
        const raw = gradSumsOp(sx, sy, dy as tf.Tensor4D, sCoef).dataSync();
        const dbeta = raw.slice(0, c);
        const dgamma = Float32Array.from({ length: c }, (_, ch) => raw[c + ch]! * fwd[c + ch]!);
        const all = allSum(concat(dbeta, dgamma), replicas);
        // dx = (g - xhat * a - b) * scale with a = mean(g * xhat), b = mean(g) over the whole
        // batch; with xhat = (x - mean) * invStd that is g * p - (x - mean) * q - k
        // per channel (dxCoef = [mean | p | q | k]).
        const dxCoef = new Float32Array(4 * c);
        for (let ch = 0; ch < c; ch++) {
          const scale = fwd[2 * c + ch]!;
          dxCoef[ch] = fwd[ch]!;
          dxCoef[c + ch] = scale;
          dxCoef[2 * c + ch] = (fwd[c + ch]! * Math.fround(all[c + ch]!) * scale) / count;
          dxCoef[3 * c + ch] = (Math.fround(all[ch]!) * scale) / count;
        }
        const dx = inputGradOp(sx, sy, dy as tf.Tensor4D, tf.tensor1d(dxCoef));
        return [dx, tf.tensor1d(dgamma), tf.tensor1d(dbeta)];
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  if (stats === undefined) throw new Error('batchNormRelu: forward pass did not run');
  return { y, stats };
}

/**
 * Training-mode batch norm + ReLU (FadnetOps.batchNormRelu) on the SIMD kernels where the
 * channel count allows, else as one tfjs-op custom-gradient op.
 */
export function batchNormRelu(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  replicas?: ReplicaSum,
): { y: tf.Tensor4D; stats: BatchStats } {
  if (hasBatchNormSimd(x.shape[3])) return batchNormReluSimd(x, gamma, beta, epsilon, replicas);
  return batchNormReluOp(x, gamma, beta, epsilon, replicas);
}

const WASM_TRAINING_OPS: FadnetOps = { name: 'wasm-training', convBias, batchNormRelu };

/** The wasm training op set; installs the wasm training kernels on first use. */
export function wasmTrainingOps(): FadnetOps {
  registerWasmTrainingKernels();
  return WASM_TRAINING_OPS;
}

/** The op set training uses on `backend`: the wasm one there, tfjs's own elsewhere. */
export function trainingOps(backend: string): FadnetOps {
  return backend === 'wasm' ? wasmTrainingOps() : TFJS_OPS;
}
