// What the trainer consumes: indexed (frame, steering) samples. Recorded datasets (MCAP) and
// synthetic data both implement it; the trainer never knows where frames come from. A dataset
// says which input spec its frames were prepared for, so the trainer sizes its buffers from it,
// checks FADNet can take it, and the package it exports carries the spec the data had.
import { FADNET_INPUT_SPEC, type InputSpec } from '../input-spec.ts';

export interface TrainingDataset {
  readonly size: number;
  /** How every frame was prepared; its height and width are each frame's size. */
  readonly inputSpec: InputSpec;
  /** Fills x (n frames of inputSpec's height x width, already preprocessed) and y (n) for the given indices. */
  read(indices: readonly number[], x: Float32Array, y: Float32Array): Promise<void>;
}

/** Values in one frame of `spec` (one channel). */
export function frameValues(spec: { readonly height: number; readonly width: number }): number {
  return spec.height * spec.width;
}

/** An in-memory dataset over preprocessed frames and labels. */
export class ArrayDataset implements TrainingDataset {
  readonly size: number;
  readonly inputSpec: InputSpec;
  readonly #frames: Float32Array;
  readonly #labels: Float32Array;
  readonly #frame: number;

  /** `inputSpec` is the spec the frames were prepared with (FADNET_INPUT_SPEC unless said). */
  constructor(frames: Float32Array, labels: Float32Array, inputSpec: InputSpec = FADNET_INPUT_SPEC) {
    const frame = frameValues(inputSpec);
    if (frames.length !== labels.length * frame) {
      throw new RangeError(
        `dataset has ${frames.length} frame values for ${labels.length} labels of 1 x ${inputSpec.height} x ${inputSpec.width}`,
      );
    }
    this.#frames = frames;
    this.#labels = labels;
    this.#frame = frame;
    this.inputSpec = inputSpec;
    this.size = labels.length;
  }

  async read(indices: readonly number[], x: Float32Array, y: Float32Array): Promise<void> {
    const frame = this.#frame;
    indices.forEach((idx, i) => {
      x.set(this.#frames.subarray(idx * frame, (idx + 1) * frame), i * frame);
      y[i] = this.#labels[idx]!;
    });
  }
}

/**
 * Seeded synthetic frames whose steering is a known function of the image (the horizontal
 * position of a bright stripe), so a few hundred steps show whether training learns at all.
 * Frames have `inputSpec`'s size (FADNET_INPUT_SPEC unless said).
 */
export function syntheticDataset(
  size: number,
  seed: number,
  inputSpec: InputSpec = FADNET_INPUT_SPEC,
): ArrayDataset {
  const { height, width } = inputSpec;
  const frame = frameValues(inputSpec);
  const frames = new Float32Array(size * frame);
  const labels = new Float32Array(size);
  let state = seed >>> 0 || 1;
  const rand = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  // The stripe's centre lies within 60 pixels of the middle column, as it did at 200 x 200;
  // written so that a 200 x 200 set is the same bits it always was.
  const midColumn = width / 2;
  const midRow = height / 2;
  for (let s = 0; s < size; s++) {
    const centre = midColumn - 60 + rand() * 120;
    const slope = (rand() - 0.5) * 0.6;
    labels[s] = (centre - midColumn) / 60 + slope;
    const base = s * frame;
    for (let r = 0; r < height; r++) {
      const c = centre + slope * (r - midRow);
      for (let q = 0; q < width; q++) {
        const d = Math.abs(q - c);
        frames[base + r * width + q] = (d < 6 ? 0.8 : -0.6) + (rand() - 0.5) * 0.1;
      }
    }
  }
  return new ArrayDataset(frames, labels, inputSpec);
}
