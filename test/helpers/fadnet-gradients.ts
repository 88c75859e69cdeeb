// FADNet's training gradients on two fixture images, on whichever tfjs backend is current: the
// computation gradients.test.ts compares between the wasm and CPU backends.
import * as tf from '@tensorflow/tfjs-core';
import { FadnetTfjs } from '../../models/src/fadnet/tfjs-model.ts';
import { trainingOps } from '../../models/src/tfjs/training/ops.ts';
import { weightsFromSafetensors } from '../../models/src/weights/weight-set.ts';
import { loadFixture } from './fixture.ts';

// Two of the fixture's images: the CPU backend's backward pass is slow.
const N = 2;
const TARGET = new Float32Array([0.25, -0.5]);
// A fixed Dropout2d mask with both kept and dropped channels.
const MASK = new Float32Array(N * 128).map((_, i) => ((i * 7 + 3) % 5 < 3 ? 1 : 0));

/** Every trainable tensor's gradient of the MSE loss, by weight name, and the loss. */
export function fadnetGradients(): { readonly loss: number; readonly grads: Map<string, Float32Array> } {
  const fx = loadFixture();
  const model = FadnetTfjs.create(weightsFromSafetensors(fx.weightsBytes), trainingOps(tf.getBackend()));
  try {
    const grads = new Map<string, Float32Array>();
    let loss = Number.NaN;
    tf.tidy(() => {
      const x = tf.tensor4d(fx.inputs.subarray(0, N * 200 * 200), [N, 1, 200, 200]);
      const y = tf.tensor2d(TARGET, [N, 1]);
      const dropoutMask = tf.tensor2d(MASK, [N, 128]);
      const { value, grads: byVariable } = tf.variableGrads(() => {
        const r = model.forward(x, { training: true, dropoutMask });
        for (const u of r.runningUpdates.values()) u.dispose();
        return tf.losses.meanSquaredError(y, r.output) as tf.Scalar;
      }, model.trainableVariables());
      loss = value.dataSync()[0]!;
      // Variable names carry a per-instance prefix; the weight name follows the first '/'.
      for (const [k, g] of Object.entries(byVariable))
        grads.set(k.slice(k.indexOf('/') + 1), g.dataSync() as Float32Array);
    });
    return { loss, grads };
  } finally {
    model.dispose();
  }
}
