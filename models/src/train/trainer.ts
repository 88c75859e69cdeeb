// Local training: Adam, warm-up + cosine learning rate, batch 32, MSE loss, RMSE metric.
// Deterministic for a seed: the shuffle of each epoch and the dropout mask of each step are
// functions of (seed, epoch) and (seed, step), so a resumed run continues bit-for-bit. The
// gradients come from this thread or from data-parallel replicas (replicas.ts); the math is
// that of the whole batch either way, and for a given replica count the bits are too.
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { CheckpointError, InputSizeError } from '../errors.ts';
import { fadnetGeometry, type FrameSize } from '../fadnet/geometry.ts';
import { DROPOUT_P, FadnetTfjs } from '../fadnet/tfjs-model.ts';
import type { BackendName } from '../tfjs/backend.ts';
import { trainingOps } from '../tfjs/training/ops.ts';
import { decodeSafetensors, encodeSafetensors } from '../weights/safetensors.ts';
import { FADNET_PARAMS } from '../weights/spec.ts';
import { mulberry32, writeFileAtomic } from '../../../common/index.ts';
import { initialWeights, type WeightSet } from '../weights/weight-set.ts';
import { adamStep, createAdamState, type AdamState } from './adam.ts';
import { FADNET_INPUT_SPEC, type InputSpec } from '../input-spec.ts';
import { frameValues, type TrainingDataset } from './dataset.ts';
import { assignFlat, flattenInto, MASK_VALUES, valueCount } from './replica-step.ts';
import { defaultReplicas, LocalGradients, ReplicaGroup, type GradientSource } from './replicas.ts';
import { learningRate, LrScheduleSchema } from './schedule.ts';

export const TrainConfigSchema = z
  .object({
    seed: z.number().int().nonnegative().default(0),
    batchSize: z.number().int().positive().max(1024).default(32),
    steps: z.number().int().positive(),
    lr: LrScheduleSchema.partial({ totalSteps: true }).default({ base: 1e-3, warmupSteps: 50, floor: 1e-5 }),
    /** Steps between checkpoints, or `{ seconds }` of training between them. */
    checkpointEvery: z
      .union([z.number().int().positive(), z.object({ seconds: z.number().positive() }).strict()])
      .default(100),
  })
  .strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

export interface StepReport {
  readonly step: number;
  readonly loss: number;
  readonly rmse: number;
  readonly lr: number;
  readonly ms: number;
}

const TRAINABLE = FADNET_PARAMS.filter((p) => p.kind === 'trainable').map((p) => p.name);
const CHECKPOINT_FORMAT = 'fadnet-edge/checkpoint@1';

/** `HxW`, as geometry.ts names sizes. */
const sizeText = (s: FrameSize): string => `${s.height}x${s.width}`;

export class Trainer {
  readonly config: TrainConfig;
  readonly model: FadnetTfjs;
  /** The training data's input spec: what a package of this model must declare. */
  readonly inputSpec: InputSpec;
  readonly #dataset: TrainingDataset;
  readonly #params: Map<string, tf.Variable>;
  /** The trainable weights end to end (tfjs layout), the vector Adam updates. */
  readonly #weights: Float32Array;
  readonly #adam: AdamState;
  readonly #checkpointPath: string | undefined;
  readonly #x: Float32Array;
  readonly #y: Float32Array;
  readonly #mask: Float32Array;
  #gradients: GradientSource;
  #now: () => number = () => performance.now();
  #order: number[] = [];
  #orderEpoch = -1;

  private constructor(
    config: TrainConfig,
    model: FadnetTfjs,
    dataset: TrainingDataset,
    checkpointPath: string | undefined,
  ) {
    this.config = config;
    this.model = model;
    this.inputSpec = dataset.inputSpec;
    this.#dataset = dataset;
    this.#checkpointPath = checkpointPath;
    this.#params = new Map(TRAINABLE.map((n) => [n, model.variable(n)]));
    this.#weights = new Float32Array(valueCount([...this.#params.values()]));
    this.#adam = createAdamState(this.#weights.length);
    this.#x = new Float32Array(config.batchSize * frameValues(dataset.inputSpec));
    this.#y = new Float32Array(config.batchSize);
    this.#mask = new Float32Array(config.batchSize * MASK_VALUES);
    this.#gradients = new LocalGradients(model, [...this.#params.values()], dataset.inputSpec);
  }

  /**
   * Starts from `weights` (or a seeded initialisation), or resumes from the checkpoint file
   * when `resume` is set and the file exists. `replicas` > 1 splits each batch across that
   * many synchronous data-parallel replicas, this thread and worker threads (default:
   * defaultReplicas for the current backend; never more than the batch size). The dataset's
   * frame size is checked against what FADNet can take before anything is built.
   */
  static async create(options: {
    config: TrainConfigInput;
    dataset: TrainingDataset;
    weights?: WeightSet;
    checkpointPath?: string;
    resume?: boolean;
    replicas?: number;
    /** Milliseconds, for checkpoints every so many seconds (default performance.now). */
    now?: () => number;
  }): Promise<Trainer> {
    const config = TrainConfigSchema.parse(options.config);
    const { height, width } = options.dataset.inputSpec;
    try {
      fadnetGeometry({ height, width });
    } catch (error) {
      throw new InputSizeError(
        `the training dataset's ${height}x${width} frames cannot train FADNet: ${(error as Error).message}`,
        { height, width },
        { cause: error },
      );
    }
    if (options.dataset.size < config.batchSize) {
      throw new RangeError(
        `dataset has ${options.dataset.size} samples, fewer than one batch of ${config.batchSize}`,
      );
    }
    const backend = tf.getBackend() as BackendName;
    const model = FadnetTfjs.create(options.weights ?? initialWeights(config.seed), trainingOps(backend));
    const trainer = new Trainer(config, model, options.dataset, options.checkpointPath);
    if (options.now !== undefined) trainer.#now = options.now;
    if (options.resume === true && options.checkpointPath !== undefined) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = new Uint8Array(await readFile(options.checkpointPath));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      if (bytes !== undefined) trainer.restore(bytes);
    }
    const replicas = Math.min(options.replicas ?? defaultReplicas(backend), config.batchSize);
    if (!Number.isInteger(replicas) || replicas < 1)
      throw new RangeError(`replicas must be a positive integer, got ${options.replicas}`);
    if (replicas > 1) {
      trainer.#gradients = await ReplicaGroup.start({
        model,
        params: [...trainer.#params.values()],
        batchSize: config.batchSize,
        input: options.dataset.inputSpec,
        replicas,
        backend,
      });
    }
    return trainer;
  }

  get step(): number {
    return this.#adam.step;
  }

  /** How many data-parallel replicas compute each step's gradients. */
  get replicas(): number {
    return this.#gradients.replicas;
  }

  #batchIndices(step: number): number[] {
    const perEpoch = Math.floor(this.#dataset.size / this.config.batchSize);
    const epoch = Math.floor(step / perEpoch);
    if (epoch !== this.#orderEpoch) {
      const rand = mulberry32(this.config.seed * 1_000_003 + epoch);
      const order = Array.from({ length: this.#dataset.size }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      this.#order = order;
      this.#orderEpoch = epoch;
    }
    const start = (step % perEpoch) * this.config.batchSize;
    return this.#order.slice(start, start + this.config.batchSize);
  }

  #fillDropoutMask(step: number): void {
    const rand = mulberry32(this.config.seed * 7_919 + step * 104_729 + 1);
    const mask = this.#mask;
    for (let i = 0; i < mask.length; i++) mask[i] = rand() < DROPOUT_P ? 0 : 1;
  }

  /** One optimisation step on the next batch. */
  async trainStep(): Promise<StepReport> {
    const t0 = performance.now();
    const step = this.#adam.step;
    await this.#dataset.read(this.#batchIndices(step), this.#x, this.#y);
    this.#fillDropoutMask(step);
    const lr = learningRate(
      { ...this.config.lr, totalSteps: this.config.lr.totalSteps ?? this.config.steps },
      step,
    );
    const { loss, grads, runningUpdates } = await this.#gradients.compute({
      x: this.#x,
      y: this.#y,
      mask: this.#mask,
    });
    try {
      if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step}: loss is ${loss}`);
      const params = [...this.#params.values()];
      flattenInto(params, this.#weights);
      adamStep(this.#adam, this.#weights, grads, lr);
      assignFlat(params, this.#weights);
      this.model.applyRunningUpdates(runningUpdates);
      return { step: this.#adam.step, loss, rmse: Math.sqrt(loss), lr, ms: performance.now() - t0 };
    } finally {
      tf.dispose([...runningUpdates.values()]);
    }
  }

  /**
   * Runs to config.steps, checkpointing every checkpointEvery steps (or seconds) and at the
   * end, so a killed run loses at most that much work.
   */
  async run(onStep?: (report: StepReport) => void): Promise<StepReport[]> {
    const reports: StepReport[] = [];
    const every = this.config.checkpointEvery;
    let lastSaved = this.#now();
    while (this.#adam.step < this.config.steps) {
      const report = await this.trainStep();
      reports.push(report);
      onStep?.(report);
      const due =
        typeof every === 'number'
          ? this.#adam.step % every === 0
          : this.#now() - lastSaved >= every.seconds * 1000;
      if (this.#checkpointPath !== undefined && due) {
        await this.saveCheckpoint();
        lastSaved = this.#now();
      }
    }
    if (this.#checkpointPath !== undefined) await this.saveCheckpoint();
    return reports;
  }

  /** Eval-mode RMSE over a dataset of the training data's frame size, in batches. */
  async evaluate(dataset: TrainingDataset, batch = 32): Promise<number> {
    const { height, width } = dataset.inputSpec;
    if (height !== this.inputSpec.height || width !== this.inputSpec.width)
      throw new InputSizeError(
        `cannot evaluate on ${height}x${width} frames a model trained on ${this.inputSpec.height}x${this.inputSpec.width}`,
        { height, width },
      );
    const frame = frameValues(dataset.inputSpec);
    let sum = 0;
    const x = new Float32Array(batch * frame);
    const y = new Float32Array(batch);
    for (let start = 0; start < dataset.size; start += batch) {
      const n = Math.min(batch, dataset.size - start);
      await dataset.read(
        Array.from({ length: n }, (_, i) => start + i),
        x,
        y,
      );
      const pred = tf.tidy(() =>
        this.model.predict(tf.tensor4d(x.subarray(0, n * frame), [n, 1, height, width])),
      );
      const p = (await pred.data()) as Float32Array;
      pred.dispose();
      for (let i = 0; i < n; i++) sum += (p[i]! - y[i]!) ** 2;
    }
    return Math.sqrt(sum / dataset.size);
  }

  /** Where each trainable parameter sits in the flat weight and moment vectors. */
  #layout(): { name: string; shape: number[]; offset: number; size: number }[] {
    let offset = 0;
    return [...this.#params].map(([name, p]) => {
      const entry = { name, shape: p.shape, offset, size: p.size };
      offset += p.size;
      return entry;
    });
  }

  checkpointBytes(): Uint8Array {
    const tensors: [string, { shape: number[]; data: Float32Array }][] = [];
    const weights = this.model.weights();
    for (const p of FADNET_PARAMS)
      tensors.push([p.name, { shape: [...p.shape], data: weights.get(p.name)! }]);
    for (const [kind, moments] of [
      ['m', this.#adam.m],
      ['v', this.#adam.v],
    ] as const) {
      for (const { name, shape, offset, size } of this.#layout()) {
        tensors.push([`adam.${kind}.${name}`, { shape, data: moments.slice(offset, offset + size) }]);
      }
    }
    return encodeSafetensors(tensors, {
      metadata: {
        format: CHECKPOINT_FORMAT,
        step: String(this.#adam.step),
        seed: String(this.config.seed),
        batchSize: String(this.config.batchSize),
        input: sizeText(this.inputSpec),
      },
    });
  }

  async saveCheckpoint(): Promise<void> {
    if (this.#checkpointPath === undefined) return;
    await writeFileAtomic(this.#checkpointPath, this.checkpointBytes());
  }

  /** Restores weights, Adam moments and step; all are checked before any is applied. */
  restore(bytes: Uint8Array): void {
    let decoded;
    try {
      decoded = decodeSafetensors(bytes);
    } catch (error) {
      throw new CheckpointError('checkpoint is not a readable safetensors file', { cause: error });
    }
    const meta = decoded.metadata;
    if (meta['format'] !== CHECKPOINT_FORMAT)
      throw new CheckpointError(`checkpoint format is ${meta['format']}, expected ${CHECKPOINT_FORMAT}`);
    if (meta['seed'] !== String(this.config.seed) || meta['batchSize'] !== String(this.config.batchSize)) {
      throw new CheckpointError(
        `checkpoint was made with seed ${meta['seed']} and batch ${meta['batchSize']}, this run uses seed ${this.config.seed} and batch ${this.config.batchSize}`,
      );
    }
    // Checkpoints written before the size was recorded all trained on the default input size.
    const input = meta['input'] ?? sizeText(FADNET_INPUT_SPEC);
    if (input !== sizeText(this.inputSpec))
      throw new CheckpointError(
        `checkpoint was made on ${input} frames, this run's dataset has ${sizeText(this.inputSpec)}`,
      );
    const step = Number(meta['step']);
    if (!Number.isInteger(step) || step < 0)
      throw new CheckpointError(`checkpoint step ${meta['step']} is not a step count`);
    const weights = new Map(
      FADNET_PARAMS.map((p) => [p.name, decoded.tensors.get(p.name)!] as const).filter(
        ([, t]) => t !== undefined,
      ),
    );
    const moments: [Float32Array, number, Float32Array][] = [];
    for (const [kind, table] of [
      ['m', this.#adam.m],
      ['v', this.#adam.v],
    ] as const) {
      for (const { name, offset, size } of this.#layout()) {
        const t = decoded.tensors.get(`adam.${kind}.${name}`);
        if (t === undefined || t.data.length !== size)
          throw new CheckpointError(`checkpoint lacks adam.${kind}.${name}`);
        moments.push([table, offset, t.data]);
      }
    }
    try {
      this.model.load(weights); // validates every tensor first, then assigns all
    } catch (error) {
      throw new CheckpointError(`checkpoint weights are invalid: ${(error as Error).message}`, {
        cause: error,
      });
    }
    for (const [table, offset, data] of moments) table.set(data, offset);
    this.#adam.step = step;
  }

  /** Stops the replica workers and frees every tensor; the trainer is unusable afterwards. */
  async dispose(): Promise<void> {
    await this.#gradients.close();
    this.model.dispose();
  }
}
