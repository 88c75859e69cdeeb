// The operations FADNet's layers are built from, injected into the model (tfjs-model.ts) as an
// op set, so the model never asks which backend runs it. TFJS_OPS is tfjs's own ops and
// gradients: the reference, what inference uses on every backend, and training on the CPU
// backend. Training on the WebAssembly backend brings its own set (tfjs/training/ops.ts).
//
// Batch norm synchronised across data-parallel replicas needs one op with a hand-written
// gradient whatever the backend, since only a closed-form backward pass can all-reduce the
// sums it needs; that op (batchNormReluOp) lives here, built from tfjs ops alone.
import * as tf from '@tensorflow/tfjs-core';

/** One layer op set for FADNet (see above). */
export interface FadnetOps {
  readonly name: string;
  /**
   * conv2d(x, w, 'same', stride) + b. With `inputGrad` false, x is treated as data (the
   * network's input) and may get no gradient.
   */
  convBias(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, stride: number, inputGrad: boolean): tf.Tensor4D;
  /**
   * Training-mode batch norm followed by ReLU over N,H,W of x (NHWC) with the batch's own
   * statistics, those of every replica's batch with `replicas`. The statistics are the
   * caller's to dispose.
   */
  batchNormRelu(
    x: tf.Tensor4D,
    gamma: tf.Tensor1D,
    beta: tf.Tensor1D,
    epsilon: number,
    replicas?: ReplicaSum,
  ): { y: tf.Tensor4D; stats: BatchStats };
}

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
type Forward = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: GradFn };

/** tf.customGrad with the argument and gradient types the layer ops use. */
export function custom(f: Forward): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f);
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

export function concat(...parts: ArrayLike<number>[]): Float64Array {
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

/** Per-channel sums all-reduced across replicas when there are any, else as they are. */
export function allSum(values: ArrayLike<number>, replicas: ReplicaSum | undefined): ArrayLike<number> {
  return replicas === undefined ? values : replicas.sum(values);
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
export function batchNormReluOp(
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

/** tfjs's own ops and gradients (see the top of this file). */
export const TFJS_OPS: FadnetOps = {
  name: 'tfjs',
  convBias: (x, w, b, stride) => tf.add(tf.conv2d(x, w, stride, 'same'), b),
  batchNormRelu(x, gamma, beta, epsilon, replicas) {
    if (replicas !== undefined) return batchNormReluOp(x, gamma, beta, epsilon, replicas);
    const { mean, variance } = tf.moments(x, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
    const count = x.shape[0] * x.shape[1] * x.shape[2];
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
    const y = tf.relu(tf.add(tf.mul(tf.sub(x, mean), scale), beta)) as tf.Tensor4D;
    return { y, stats: { mean, variance, count } };
  },
};
