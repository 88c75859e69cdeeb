// One replica's share of a training step, the same code on the main thread and in every worker.
// Data parallelism splits a batch into contiguous slices; a replica's loss is the sum of its
// squared errors divided by the size of the whole batch, so the replicas' gradients add up to
// the gradient of the whole batch's mean loss. Batch norm sees the whole batch through
// `replicas` (synchronised batch norm), so the sum is exact, not an approximation.
import * as tf from '@tensorflow/tfjs-core';
import type { FadnetTfjs } from '../fadnet/tfjs-model.ts';
import type { FrameSize } from '../fadnet/geometry.ts';
import type { ReplicaSum } from '../fadnet/ops.ts';

/** Dropout2d mask width: one keep/drop value per fc channel. */
export const MASK_VALUES = 128;

/** Model inputs, targets and dropout mask of n samples (a whole batch or one replica's slice). */
export interface Batch {
  /** n frames, each of the dataset's height x width. */
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly mask: Float32Array;
}

export interface SliceGradients {
  /** This slice's share of the batch's mean squared error. */
  readonly loss: tf.Scalar;
  /** One gradient per parameter, in the parameters' order. */
  readonly grads: tf.Tensor[];
  /** New BN running statistics (of the whole batch when replicas are synchronised). */
  readonly runningUpdates: ReadonlyMap<string, tf.Tensor1D>;
}

/** Sizes of `replicas` contiguous slices of a batch; the first slices take the remainder. */
export function sliceSizes(batchSize: number, replicas: number): number[] {
  const base = Math.floor(batchSize / replicas);
  return Array.from({ length: replicas }, (_, r) => base + (r < batchSize % replicas ? 1 : 0));
}

/** Rows [start, start + n) of a batch, as views. */
export function sliceOf(batch: Batch, start: number, n: number): Batch {
  // Every sample has one label, so a frame is x's share of one label.
  const frame = batch.x.length / batch.y.length;
  return {
    x: batch.x.subarray(start * frame, (start + n) * frame),
    y: batch.y.subarray(start, start + n),
    mask: batch.mask.subarray(start * MASK_VALUES, (start + n) * MASK_VALUES),
  };
}

/**
 * Loss and gradients of one slice of a batch of `batchSize` samples, frames of `input` pixels.
 * The caller disposes every returned tensor. With one replica (slice = batch) the loss is
 * tf.mean, as it always was.
 */
export function sliceGradients(
  model: FadnetTfjs,
  params: readonly tf.Variable[],
  slice: Batch,
  batchSize: number,
  input: FrameSize,
  replicas?: ReplicaSum,
): SliceGradients {
  const n = slice.y.length;
  let runningUpdates: ReadonlyMap<string, tf.Tensor1D> = new Map();
  const x = tf.tensor4d(slice.x, [n, 1, input.height, input.width]);
  const y = tf.tensor2d(slice.y, [n, 1]);
  const dropoutMask = tf.tensor2d(slice.mask, [n, MASK_VALUES]);
  try {
    const { value, grads } = tf.variableGrads(() => {
      const result = model.forward(x, {
        training: true,
        dropoutMask,
        ...(replicas === undefined ? {} : { replicas }),
      });
      runningUpdates = result.runningUpdates;
      const squares = tf.squaredDifference(result.output, y);
      return (n === batchSize ? tf.mean(squares) : tf.div(tf.sum(squares), batchSize)) as tf.Scalar;
    }, [...params]);
    return { loss: value, grads: params.map((p) => grads[p.name]!), runningUpdates };
  } catch (error) {
    for (const u of runningUpdates.values()) u.dispose();
    throw error;
  } finally {
    tf.dispose([x, y, dropoutMask]);
  }
}

/** Number of values in the parameters, i.e. in one flattened gradient. */
export function valueCount(params: readonly tf.Variable[]): number {
  return params.reduce((n, p) => n + p.size, 0);
}

/** Copies tensors end to end into `out` from `offset` (the layout of a flattened gradient). */
export function flattenInto(
  tensors: readonly tf.Tensor[],
  out: Float32Array | Float64Array,
  offset = 0,
): void {
  let at = offset;
  for (const t of tensors) {
    const v = t.dataSync();
    out.set(v, at);
    at += v.length;
  }
}

/** Assigns the flattened values starting at `offset` to `params`, in order. */
export function assignFlat(params: readonly tf.Variable[], values: Float32Array, offset = 0): void {
  let at = offset;
  tf.tidy(() => {
    for (const p of params) {
      p.assign(tf.tensor(values.subarray(at, at + p.size), p.shape));
      at += p.size;
    }
  });
}
