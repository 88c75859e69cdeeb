// What the trainer consumes: indexed (frame, steering) samples. Recorded datasets (MCAP) and
// synthetic data both implement it; the trainer never knows where frames come from.

export interface TrainingDataset {
  readonly size: number;
  /** Fills x (n x 40000, model input already preprocessed) and y (n) for the given indices. */
  read(indices: readonly number[], x: Float32Array, y: Float32Array): Promise<void>;
}

export const FRAME_VALUES = 200 * 200;

/** An in-memory dataset over preprocessed frames and labels. */
export class ArrayDataset implements TrainingDataset {
  readonly size: number;
  readonly #frames: Float32Array;
  readonly #labels: Float32Array;

  constructor(frames: Float32Array, labels: Float32Array) {
    if (frames.length !== labels.length * FRAME_VALUES) {
      throw new RangeError(`dataset has ${frames.length} frame values for ${labels.length} labels`);
    }
    this.#frames = frames;
    this.#labels = labels;
    this.size = labels.length;
  }

  async read(indices: readonly number[], x: Float32Array, y: Float32Array): Promise<void> {
    indices.forEach((idx, i) => {
      x.set(this.#frames.subarray(idx * FRAME_VALUES, (idx + 1) * FRAME_VALUES), i * FRAME_VALUES);
      y[i] = this.#labels[idx]!;
    });
  }
}

/**
 * Seeded synthetic frames whose steering is a known function of the image (the horizontal
 * position of a bright stripe), so a few hundred steps show whether training learns at all.
 */
export function syntheticDataset(size: number, seed: number): ArrayDataset {
  const frames = new Float32Array(size * FRAME_VALUES);
  const labels = new Float32Array(size);
  let state = seed >>> 0 || 1;
  const rand = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  for (let s = 0; s < size; s++) {
    const centre = 40 + rand() * 120;
    const slope = (rand() - 0.5) * 0.6;
    labels[s] = (centre - 100) / 60 + slope;
    const base = s * FRAME_VALUES;
    for (let r = 0; r < 200; r++) {
      const c = centre + slope * (r - 100);
      for (let q = 0; q < 200; q++) {
        const d = Math.abs(q - c);
        frames[base + r * 200 + q] = (d < 6 ? 0.8 : -0.6) + (rand() - 0.5) * 0.1;
      }
    }
  }
  return new ArrayDataset(frames, labels);
}
