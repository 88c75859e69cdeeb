// Layer ops with hand-written gradients for training on the WebAssembly backend. tfjs
// differentiates a layer op by op: a batch norm becomes a dozen full-size elementwise kernels
// and copies in the backward pass, and a convolution's bias is a separate full-size add. Here
// each layer is one custom-gradient op whose forward uses the backend's fused kernels
// (FusedConv2D with bias, FusedBatchNorm) and whose backward is the closed form. The math is
// the same as the op-by-op graph; only the rounding differs. The model uses these ops on wasm
// only, so the CPU backend keeps tfjs's own gradients as the reference.
import * as tf from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dInputGrad, padsOf } from './wasm-kernels.ts';

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Forward = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: GradFn };

function custom(f: Forward): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]);
}

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

export interface BatchStats {
  /** Per-channel batch mean and biased variance, owned by the caller (dispose them). */
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
}

/**
 * Training-mode batch norm followed by ReLU over the N,H,W axes of x (NHWC):
 * relu((x - mean) / sqrt(var + eps) * gamma + beta) with the batch's own mean and biased
 * variance. Returns the output and the batch statistics (for the running averages).
 */
export function batchNormRelu(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): { y: tf.Tensor4D; stats: BatchStats } {
  let stats: BatchStats | undefined;
  const op = custom((xv, gv, bv, save) => {
    const xs = xv as tf.Tensor4D;
    const mean = tf.mean(xs, [0, 1, 2]) as tf.Tensor1D;
    const variance = tf.mean(tf.squaredDifference(xs, mean), [0, 1, 2]) as tf.Tensor1D;
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    const y = tf.relu(tf.batchNorm(xs, mean, variance, bv as tf.Tensor1D, gv as tf.Tensor1D, epsilon));
    (save as tf.GradSaveFunc)([xs, gv as tf.Tensor, mean, variance, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sg, sm, sv, sy] = saved as [
          tf.Tensor4D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor4D,
        ];
        const count = sx.shape[0] * sx.shape[1] * sx.shape[2];
        const g = tf.mul(dy, tf.step(sy)); // through the ReLU
        const xhat = tf.batchNorm(sx, sm, sv, undefined, undefined, epsilon);
        const dbeta = tf.sum(g, [0, 1, 2]);
        const dgamma = tf.sum(tf.mul(g, xhat), [0, 1, 2]);
        // dx = gamma / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat))
        const scale = tf.mul(sg, tf.rsqrt(tf.add(sv, epsilon)));
        const centred = tf.add(tf.mul(xhat, tf.div(dgamma, count)), tf.div(dbeta, count));
        const dx = tf.mul(tf.sub(g, centred), scale);
        return [dx, dgamma, dbeta];
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  if (stats === undefined) throw new Error('batchNormRelu: forward pass did not run');
  return { y, stats };
}
