// FADNet in TensorFlow.js, exactly as docs/fadnet.md specifies. Tensors are NHWC inside (the
// layout every tfjs backend supports); the two places where the reference flattens in NCHW
// order (pair-mean and the fc branch) transpose first so the numbers match PyTorch. The layer
// ops come from the op set the model is built with (ops.ts): tfjs's own by default, the wasm
// training set when training there.
import * as tf from '@tensorflow/tfjs-core';
import { WeightError } from '../errors.ts';
import { FADNET_PARAMS, type ParamSpec } from '../weights/spec.ts';
import { validateWeights, type TensorLike, type WeightSet } from '../weights/weight-set.ts';
import { meanLastAxis } from '../tfjs/mean-last.ts';
import { InputSizeError } from '../errors.ts';
import { FC_WIDTH, fadnetGeometry } from './geometry.ts';
import { TFJS_OPS, type FadnetOps, type ReplicaSum } from './ops.ts';

export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;
export const DROPOUT_P = 0.5;

/** PyTorch layout -> tfjs layout for one parameter. */
function toTfLayout(spec: ParamSpec, data: Float32Array): tf.Tensor {
  const t = tf.tensor(data, [...spec.shape], 'float32');
  if (spec.shape.length === 4) return tf.tidy(() => tf.transpose(t, [2, 3, 1, 0])); // OIHW -> HWIO
  if (spec.shape.length === 2) return tf.tidy(() => tf.transpose(t)); // (out,in) -> (in,out)
  return t;
}

function fromTfLayout(spec: ParamSpec, t: tf.Tensor): Float32Array {
  return tf
    .tidy(() => {
      if (spec.shape.length === 4) return tf.transpose(t, [3, 2, 0, 1]);
      if (spec.shape.length === 2) return tf.transpose(t);
      return t.clone();
    })
    .dataSync() as Float32Array;
}

export interface ForwardOptions {
  /** Batch-statistics BN, running-stat updates and Dropout2d. */
  readonly training: boolean;
  /** Dropout2d keep mask, shape [N, 128] of 0/1; required when training. */
  readonly dropoutMask?: tf.Tensor2D;
  /**
   * Data-parallel training: x is this replica's slice of a batch split across replicas, and
   * batch norm normalises with the statistics of the whole batch, summed through this.
   */
  readonly replicas?: ReplicaSum;
}

export interface ForwardResult {
  readonly output: tf.Tensor2D;
  /** New BN running statistics computed in training mode (not yet applied). */
  readonly runningUpdates: ReadonlyMap<string, tf.Tensor1D>;
}

let instances = 0;

export class FadnetTfjs {
  readonly #vars = new Map<string, tf.Variable>();
  readonly #ops: FadnetOps;

  private constructor(weights: WeightSet, ops: FadnetOps) {
    this.#ops = ops;
    // Variable names are global to the tfjs engine; several models (silos in one process) coexist.
    const prefix = `fadnet${instances++}`;
    for (const spec of FADNET_PARAMS) {
      const t = toTfLayout(spec, weights.get(spec.name)!);
      this.#vars.set(spec.name, tf.variable(t, spec.kind === 'trainable', `${prefix}/${spec.name}`));
      t.dispose();
    }
  }

  /**
   * Builds a model from a weight set, computing its layers with `ops`; throws WeightError
   * naming the first bad tensor.
   */
  static create(weights: ReadonlyMap<string, TensorLike>, ops: FadnetOps = TFJS_OPS): FadnetTfjs {
    return new FadnetTfjs(validateWeights(weights), ops);
  }

  /** The op set the layers run on. */
  get ops(): FadnetOps {
    return this.#ops;
  }

  /** Replaces all weights, or none: validation happens before any variable is touched. */
  load(weights: ReadonlyMap<string, TensorLike>): void {
    const valid = validateWeights(weights);
    const staged = FADNET_PARAMS.map((spec) => [spec.name, toTfLayout(spec, valid.get(spec.name)!)] as const);
    for (const [name, t] of staged) {
      this.#vars.get(name)!.assign(t);
      t.dispose();
    }
  }

  weights(): WeightSet {
    return new Map(FADNET_PARAMS.map((spec) => [spec.name, fromTfLayout(spec, this.#vars.get(spec.name)!)]));
  }

  trainableVariables(): tf.Variable[] {
    return FADNET_PARAMS.filter((p) => p.kind === 'trainable').map((p) => this.#vars.get(p.name)!);
  }

  variable(name: string): tf.Variable {
    const v = this.#vars.get(name);
    if (v === undefined) throw new WeightError(`unknown parameter ${name}`, name);
    return v;
  }

  /**
   * Inference: x is N x 1 x H x W (NCHW; with one channel the same bytes as NHWC), H x W a size
   * FADNet runs on (geometry.ts; the manifest's input spec says which).
   */
  predict(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.forward(x, { training: false }).output);
  }

  /** Step 12 times f (before the final mean), N x 6272 at 200 x 200: the fixture's `features`. */
  features(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.#trunk(x, { training: false }, new Map()).features);
  }

  forward(x: tf.Tensor, options: ForwardOptions): ForwardResult {
    const runningUpdates = new Map<string, tf.Tensor1D>();
    const { features } = this.#trunk(x, options, runningUpdates);
    return { output: meanLastAxis<tf.Tensor2D>(features, true), runningUpdates };
  }

  /** Makes the running-stat updates of a training forward pass current. */
  applyRunningUpdates(updates: ReadonlyMap<string, tf.Tensor1D>): void {
    for (const [name, t] of updates) this.variable(name).assign(t);
  }

  dispose(): void {
    for (const v of this.#vars.values()) v.dispose();
    this.#vars.clear();
  }

  #trunk(
    input: tf.Tensor,
    options: ForwardOptions,
    updates: Map<string, tf.Tensor1D>,
  ): { features: tf.Tensor2D } {
    const [n, channels, height, width] = input.shape;
    if (
      input.rank !== 4 ||
      channels !== 1 ||
      n === undefined ||
      height === undefined ||
      width === undefined
    ) {
      throw new InputSizeError(`FADNet takes N x 1 x H x W frames, got [${input.shape.join(', ')}]`, {
        height: height ?? 0,
        width: width ?? 0,
      });
    }
    const g = fadnetGeometry({ height, width });
    const x = tf.reshape(input, [n, height, width, 1]) as tf.Tensor4D;
    const c1 = this.#conv('conv1', x, 2, true);
    const x1 = tf.maxPool(c1, 3, 2, 'valid');
    // fc_accumulation, Linear(3 -> 1) over the pair means of the three support branches, is
    // linear and so is the pair mean: a0*f1 + a1*f2 + a2*f3 is the pair mean of
    // a0*s1 + a1*s2 + a2*s3. Each a_k scales its support convolution's (small) weights and
    // bias rather than its output, so one pair mean and no full-size products remain.
    const [a0, a1, a2] = tf.unstack(tf.reshape(this.variable('fc_accumulation.weight'), [3]));
    const x2 = tf.add<tf.Tensor4D>(
      this.#conv('conv2', x1, 2),
      this.#resBlock('res_block1', x1, options, updates),
    );
    const s1 = this.#conv('conv2_support', x1, 7, false, a0);
    const x3 = tf.add<tf.Tensor4D>(
      this.#conv('conv3', x2, 2),
      this.#resBlock('res_block2', x2, options, updates),
    );
    const s2 = this.#conv('conv3_support', x2, 4, false, a1);
    const x4 = tf.add<tf.Tensor4D>(
      this.#conv('conv4', x3, 2),
      this.#resBlock('res_block3', x3, options, updates),
    );
    const s3 = this.#conv('conv4_support', x3, 2, false, a2);
    const f = tf.add(
      this.#pairMean(tf.addN([s1, s2, s3]), g.features),
      this.variable('fc_accumulation.bias'),
    );

    // fc acts on the width axis of x4 in NCHW, so go to NCHW first.
    const nchw = tf.transpose(x4, [0, 3, 1, 2]); // N,128,H4,7
    const rows = tf.reshape(nchw, [-1, FC_WIDTH]);
    let fc = tf.relu(tf.add(tf.matMul(rows, this.variable('fc.weight')), this.variable('fc.bias')));
    let fc4 = tf.reshape(fc, [n, 128, g.x4.height, g.x4.width]);
    if (options.training) {
      if (options.dropoutMask === undefined) throw new Error('training forward needs a dropout mask');
      const scale = tf.reshape(tf.div(options.dropoutMask, 1 - DROPOUT_P), [n, 128, 1, 1]);
      fc4 = tf.mul(fc4, scale);
    }
    fc = tf.reshape(fc4, [n, g.features]);
    return { features: tf.mul(fc, f) as tf.Tensor2D };
  }

  /**
   * `dataInput`: x is the network's input, so no gradient flows into it. `scale` multiplies
   * the output, applied to the weights and bias.
   */
  #conv(name: string, x: tf.Tensor4D, stride: number, dataInput = false, scale?: tf.Tensor): tf.Tensor4D {
    let w = this.variable(`${name}.weight`) as tf.Tensor4D;
    let b = this.variable(`${name}.bias`) as tf.Tensor1D;
    if (scale !== undefined) {
      w = tf.mul(w, scale);
      b = tf.mul(b, scale);
    }
    return this.#ops.convBias(x, w, b, stride, !dataInput);
  }

  #resBlock(
    name: string,
    x: tf.Tensor4D,
    options: ForwardOptions,
    updates: Map<string, tf.Tensor1D>,
  ): tf.Tensor4D {
    const a = this.#batchNorm(`${name}.batch_norm`, x, options, updates);
    const b = this.#conv(`${name}.conv2d`, a, 2);
    const c = this.#batchNorm(`${name}.batch_norm_1`, b, options, updates);
    return this.#conv(`${name}.conv2d_2`, c, 1);
  }

  /** BatchNorm2d followed by ReLU (every norm in the network feeds a ReLU). */
  #batchNorm(
    name: string,
    x: tf.Tensor4D,
    options: ForwardOptions,
    updates: Map<string, tf.Tensor1D>,
  ): tf.Tensor4D {
    const gamma = this.variable(`${name}.weight`) as tf.Tensor1D;
    const beta = this.variable(`${name}.bias`) as tf.Tensor1D;
    if (!options.training) {
      const mean = this.variable(`${name}.running_mean`);
      const variance = this.variable(`${name}.running_var`);
      const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPSILON)));
      return tf.relu(tf.add(tf.mul(tf.sub(x, mean), scale), beta)) as tf.Tensor4D;
    }
    const {
      y,
      stats: { mean, variance, count },
    } = this.#ops.batchNormRelu(x, gamma, beta, BN_EPSILON, options.replicas);
    const stats = [mean, variance];
    // PyTorch normalises with the biased variance but tracks the unbiased one.
    const unbiased = tf.mul(variance, count / Math.max(1, count - 1));
    updates.set(
      `${name}.running_mean`,
      tf.keep(
        tf.add(tf.mul(this.variable(`${name}.running_mean`), 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)),
      ) as tf.Tensor1D,
    );
    updates.set(
      `${name}.running_var`,
      tf.keep(
        tf.add(tf.mul(this.variable(`${name}.running_var`), 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)),
      ) as tf.Tensor1D,
    );
    tf.dispose(stats); // the op set hands its statistics over, possibly outside any tidy scope
    return y;
  }

  /** The reference's "GAP": NCHW flatten, then the mean of each neighbouring pair. */
  #pairMean(x: tf.Tensor4D, features: number): tf.Tensor2D {
    const n = x.shape[0];
    const nchw = tf.transpose(x, [0, 3, 1, 2]);
    return meanLastAxis<tf.Tensor2D>(tf.reshape(nchw, [n, features, 2]));
  }
}
