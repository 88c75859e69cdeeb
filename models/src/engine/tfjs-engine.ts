// TensorFlow.js adapter over the same interface: the reference the ONNX path is checked
// against, and the runtime where ONNX Runtime is unavailable.
import * as tf from '@tensorflow/tfjs-core';
import { InferenceError } from '../errors.ts';
import { FadnetTfjs } from '../fadnet/tfjs-model.ts';
import { initTfjs, type BackendName } from '../tfjs/backend.ts';
import type { WeightSet } from '../weights/weight-set.ts';
import { FRAME_VALUES, type SteeringEngine } from './engine.ts';

export class TfjsEngine implements SteeringEngine {
  readonly description: string;
  readonly #model: FadnetTfjs;

  private constructor(model: FadnetTfjs, description: string) {
    this.#model = model;
    this.description = description;
  }

  static async create(options: {
    weights: WeightSet;
    backends?: readonly BackendName[];
    log?: (line: string) => void;
  }): Promise<TfjsEngine> {
    const backend = await initTfjs({
      ...(options.backends === undefined ? {} : { order: options.backends }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    return new TfjsEngine(FadnetTfjs.create(options.weights), `tfjs ${backend.name}`);
  }

  async run(batch: Float32Array, n: number): Promise<Float32Array> {
    if (!Number.isInteger(n) || n < 1 || batch.length !== n * FRAME_VALUES) {
      throw new InferenceError(`batch of ${batch.length} values is not ${n} x 1 x 200 x 200`);
    }
    const x = tf.tensor4d(batch, [n, 1, 200, 200]);
    const y = this.#model.predict(x);
    try {
      return (await y.data()) as Float32Array;
    } finally {
      x.dispose();
      y.dispose();
    }
  }

  async runOne(frame: Float32Array): Promise<number> {
    if (frame.length !== FRAME_VALUES)
      throw new InferenceError(`frame has ${frame.length} values, expected ${FRAME_VALUES}`);
    return (await this.run(frame, 1))[0]!;
  }

  async dispose(): Promise<void> {
    this.#model.dispose();
  }
}
