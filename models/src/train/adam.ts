// Adam written out (rather than tf.train.adam) so its moments are plain arrays that a checkpoint
// saves and restores exactly, and the learning rate can change every step. It runs over every
// parameter at once, end to end in one flat vector (the layout the replicas' gradient
// all-reduce produces): one loop instead of a dozen small tensor ops per parameter.

export interface AdamState {
  step: number;
  /** First and second moments of every parameter, end to end in the parameters' order. */
  readonly m: Float32Array;
  readonly v: Float32Array;
}

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
export const ADAM_EPSILON = 1e-8;

export function createAdamState(size: number): AdamState {
  return { step: 0, m: new Float32Array(size), v: new Float32Array(size) };
}

/** One Adam update of `weights` in place, from the gradient of each weight. */
export function adamStep(
  state: AdamState,
  weights: Float32Array,
  grads: Float32Array | Float64Array,
  lr: number,
): void {
  const { m, v } = state;
  if (weights.length !== m.length || grads.length < m.length) {
    throw new RangeError(
      `Adam over ${m.length} values got ${weights.length} weights and ${grads.length} gradients`,
    );
  }
  state.step += 1;
  const t = state.step;
  const stepSize = lr / (1 - ADAM_BETA1 ** t);
  const c2 = 1 - ADAM_BETA2 ** t;
  for (let i = 0; i < m.length; i++) {
    const g = grads[i]!;
    const mi = ADAM_BETA1 * m[i]! + (1 - ADAM_BETA1) * g;
    const vi = ADAM_BETA2 * v[i]! + (1 - ADAM_BETA2) * g * g;
    m[i] = mi;
    v[i] = vi;
    weights[i] = weights[i]! - (stepSize * mi) / (Math.sqrt(vi / c2) + ADAM_EPSILON);
  }
}
