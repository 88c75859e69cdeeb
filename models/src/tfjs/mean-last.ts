// Mean over the last axis with a gradient that avoids tfjs's full-size ones tensor. tfjs's
// Mean gradient builds ones of the input's size in JavaScript, uploads them and multiplies dy
// into them before dividing; the two means at the head of FADNet (the pair mean and the final
// mean over 6272 features) make 600k such ones per training step. Here dy / k, as a column,
// times a row of k ones (a GEMM with an inner dimension of 1: each output one product, so the
// values are dy / k exactly, as before). Broadcasting is no cheaper on wasm: its Tile kernel
// and binary ops that broadcast both operands are scalar loops, slower than the ones.
import * as tf from '@tensorflow/tfjs-core';

/** tf.mean(x, -1, keepDims), differentiable with a cheap gradient (see above). */
export function meanLastAxis<T extends tf.Tensor>(x: tf.Tensor, keepDims = false): T {
  const shape = x.shape;
  const k = shape[shape.length - 1]!;
  const op = tf.customGrad((xv) => ({
    value: tf.mean(xv as tf.Tensor, -1, keepDims),
    gradFunc: (dy: tf.Tensor) =>
      tf.reshape(tf.matMul(tf.reshape(tf.div(dy, k), [-1, 1]), tf.ones([1, k])), shape),
  }));
  return op(x) as T;
}
