// Layer ops with hand-written gradients for training on the WebAssembly backend. tfjs
// differentiates a layer op by op: a batch norm becomes a dozen full-size elementwise kernels
// and copies in the backward pass, and a convolution's bias is a separate full-size add. Here
// each layer is one custom-gradient op whose forward uses the backend's fast kernels
// (FusedConv2D with bias; batch norm as a broadcast scale and shift) and whose backward is the
// closed form. The math is the same as the op-by-op graph; only the rounding differs. The
// model uses these ops on wasm, and for batch norm synchronised across data-parallel replicas
// on any backend; otherwise the CPU backend keeps tfjs's own gradients as the reference.
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
  /** How many values per channel the statistics cover (N*H*W over every replica). */
  readonly count: number;
}

/** Element-wise sum of a vector across data-parallel replicas (see train/all-reduce.ts). */
export interface ReplicaSum {
  sum(values: ArrayLike<number>): Float64Array;
}

function concat(...parts: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Mean and biased variance over N,H,W of x on this replica alone, or, with `replicas`, over
 * the union of every replica's batch: the mean from all-reduced sums, then the variance from
 * all-reduced sums of squared deviations from that mean (two passes, so no cancellation of
 * E[x^2] - E[x]^2). Every replica gets the same statistics.
 */
function batchMoments(
  x: tf.Tensor4D,
  replicas: ReplicaSum | undefined,
): { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number } {
  const local = x.shape[0] * x.shape[1] * x.shape[2];
  if (replicas === undefined) {
    const mean = tf.mean(x, [0, 1, 2]) as tf.Tensor1D;
    const variance = tf.mean(tf.squaredDifference(x, mean), [0, 1, 2]) as tf.Tensor1D;
    return { mean, variance, count: local };
  }
  const c = x.shape[3];
  // The count rides along with the sums: replicas may hold slices of different sizes.
  const sums = replicas.sum(concat(tf.sum(x, [0, 1, 2]).dataSync(), [local]));
  const count = sums[c]!;
  const mean = tf.tensor1d(Float32Array.from(sums.subarray(0, c), (s) => s / count));
  const squares = replicas.sum(tf.sum(tf.squaredDifference(x, mean), [0, 1, 2]).dataSync());
  const variance = tf.tensor1d(Float32Array.from(squares, (s) => s / count));
  return { mean, variance, count };
}

/**
 * Training-mode batch norm followed by ReLU over the N,H,W axes of x (NHWC):
 * relu((x - mean) / sqrt(var + eps) * gamma + beta) with the batch's own mean and biased
 * variance. Returns the output and the batch statistics (for the running averages).
 *
 * With `replicas` the batch is the union of every replica's x (synchronised batch norm): the
 * statistics are global, and the backward pass all-reduces the sums that dx needs. The
 * returned gamma and beta gradients stay this replica's share, so that summing every
 * replica's parameter gradients gives the gradient of the whole batch.
 */
export function batchNormRelu(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  replicas?: ReplicaSum,
): { y: tf.Tensor4D; stats: BatchStats } {
  let stats: BatchStats | undefined;
  const op = custom((xv, gv, bv, save) => {
    const xs = xv as tf.Tensor4D;
    const { mean, variance, count } = batchMoments(xs, replicas);
    stats = { mean: tf.keep(mean), variance: tf.keep(variance), count };
    // relu(x * scale + shift) with per-channel scale and shift: two broadcast ops that run on
    // XNNPACK, where the wasm FusedBatchNorm kernel is a scalar loop several times slower.
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const scale = tf.mul(gv as tf.Tensor1D, invStd);
    const shift = tf.sub(bv as tf.Tensor1D, tf.mul(mean, scale));
    const y = tf.relu(tf.add(tf.mul(xs, scale), shift));
    (save as tf.GradSaveFunc)([xs, mean, invStd, scale, y]);
    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sm, sInvStd, sScale, sy] = saved as [
          tf.Tensor4D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor4D,
        ];
        const g = tf.mul(dy, tf.step(sy)); // through the ReLU
        const xhat = tf.mul(tf.sub(sx, sm), sInvStd);
        const dbeta = tf.sum(g, [0, 1, 2]) as tf.Tensor1D;
        const dgamma = tf.sum(tf.mul(g, xhat), [0, 1, 2]) as tf.Tensor1D;
        let dbetaAll = dbeta;
        let dgammaAll = dgamma;
        if (replicas !== undefined) {
          const c = dbeta.shape[0];
          const sums = replicas.sum(concat(dbeta.dataSync(), dgamma.dataSync()));
          dbetaAll = tf.tensor1d(Float32Array.from(sums.subarray(0, c)));
          dgammaAll = tf.tensor1d(Float32Array.from(sums.subarray(c)));
        }
        // dx = gamma / sqrt(var + eps) * (g - mean(g) - xhat * mean(g * xhat)), means over the whole batch
        const centred = tf.add(tf.mul(xhat, tf.div(dgammaAll, count)), tf.div(dbetaAll, count));
        const dx = tf.mul(tf.sub(g, centred), sScale);
        return [dx, dgamma, dbeta];
      },
    };
  });
  const y = op(x, gamma, beta) as tf.Tensor4D;
  if (stats === undefined) throw new Error('batchNormRelu: forward pass did not run');
  return { y, stats };
}
