// TensorFlow.js adapter over the same interface: the reference the ONNX path is checked
// against, and the runtime where ONNX Runtime is unavailable.
import * as tf from '@tensorflow/tfjs-core';
import { InferenceError } from '../errors.ts';
import { fadnetGeometry, type FrameSize } from '../fadnet/geometry.ts';
import { FadnetTfjs } from '../fadnet/tfjs-model.ts';
import { FADNET_INPUT_SPEC } from '../input-spec.ts';
import { initTfjs, type BackendName } from '../tfjs/backend.ts';
import type { WeightSet } from '../weights/weight-set.ts';
import { checkBatch, type SteeringEngine } from './engine.ts';

export class TfjsEngine implements SteeringEngine {
  readonly description: string;
  /** The frame size the model takes. */
  readonly input: FrameSize;
  readonly #model: FadnetTfjs;

  private constructor(model: FadnetTfjs, description: string, input: FrameSize) {
    this.#model = model;
    this.description = description;
    this.input = input;
  }

  /** `input`: the frame size of the model's input spec (FADNET_INPUT_SPEC's unless said). */
  static async create(options: {
    weights: WeightSet;
    input?: FrameSize;
    backends?: readonly BackendName[];
    log?: (line: string) => void;
  }): Promise<TfjsEngine> {
    // A size FADNet cannot take is refused before any backend starts.
    const input = fadnetGeometry(options.input ?? FADNET_INPUT_SPEC).input;
    const backend = await initTfjs({
      ...(options.backends === undefined ? {} : { order: options.backends }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    return new TfjsEngine(FadnetTfjs.create(options.weights), `tfjs ${backend.name}`, input);
  }

  async run(batch: Float32Array, n: number): Promise<Float32Array> {
    const wrong = checkBatch(batch, n, this.input);
    if (wrong !== undefined) throw new InferenceError(wrong);
    const x = tf.tensor4d(batch, [n, 1, this.input.height, this.input.width]);
    const y = this.#model.predict(x);
    try {
      return (await y.data()) as Float32Array;
    } finally {
      x.dispose();
      y.dispose();
    }
  }

  async runOne(frame: Float32Array): Promise<number> {
    const values = this.input.height * this.input.width;
    if (frame.length !== values)
      throw new InferenceError(`frame has ${frame.length} values, expected ${values}`);
    return (await this.run(frame, 1))[0]!;
  }

  async dispose(): Promise<void> {
    this.#model.dispose();
  }
}
