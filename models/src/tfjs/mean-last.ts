// Mean over the last axis with a gradient that broadcasts instead of multiplying by ones.
// tfjs's Mean gradient builds a ones tensor of the input's full size in JavaScript, uploads it
// and multiplies dy into it before dividing; the two means at the head of FADNet (the pair mean
// and the final mean over 6272 features) make 600k such ones per training step. Broadcasting
// dy / k gives the same values (dy * 1 / k is dy / k exactly) for one tile of the output.
import * as tf from '@tensorflow/tfjs-core';

/** tf.mean(x, -1, keepDims), differentiable with a broadcast gradient. */
export function meanLastAxis<T extends tf.Tensor>(x: tf.Tensor, keepDims = false): T {
  const shape = x.shape;
  const k = shape[shape.length - 1]!;
  const op = tf.customGrad((xv) => ({
    value: tf.mean(xv as tf.Tensor, -1, keepDims),
    gradFunc: (dy: tf.Tensor) => tf.broadcastTo(tf.reshape(tf.div(dy, k), [...shape.slice(0, -1), 1]), shape),
  }));
  return op(x) as T;
}
