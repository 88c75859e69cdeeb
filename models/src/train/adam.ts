// Adam written out (rather than tf.train.adam) so its moments are plain named tensors that a
// checkpoint saves and restores exactly, and the learning rate can change every step.
import * as tf from '@tensorflow/tfjs-core';

export interface AdamState {
  step: number;
  readonly m: Map<string, tf.Variable>;
  readonly v: Map<string, tf.Variable>;
}

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

export function createAdamState(params: ReadonlyMap<string, tf.Variable>): AdamState {
  const m = new Map<string, tf.Variable>();
  const v = new Map<string, tf.Variable>();
  for (const [name, p] of params) {
    m.set(name, tf.variable(tf.zerosLike(p), false));
    v.set(name, tf.variable(tf.zerosLike(p), false));
  }
  return { step: 0, m, v };
}

export function adamStep(
  state: AdamState,
  params: ReadonlyMap<string, tf.Variable>,
  grads: ReadonlyMap<string, tf.Tensor>,
  lr: number,
): void {
  state.step += 1;
  const t = state.step;
  const c1 = 1 - ADAM_BETA1 ** t;
  const c2 = 1 - ADAM_BETA2 ** t;
  tf.tidy(() => {
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (g === undefined) throw new Error(`no gradient for ${name}`);
      const m = state.m.get(name)!;
      const v = state.v.get(name)!;
      const mNew = tf.add(tf.mul(m, ADAM_BETA1), tf.mul(g, 1 - ADAM_BETA1));
      const vNew = tf.add(tf.mul(v, ADAM_BETA2), tf.mul(tf.square(g), 1 - ADAM_BETA2));
      m.assign(mNew);
      v.assign(vNew);
      const update = tf.div(tf.mul(mNew, lr / c1), tf.add(tf.sqrt(tf.div(vNew, c2)), ADAM_EPSILON));
      p.assign(tf.sub(p, update));
    }
  });
}
