// Domain randomisation of rendered frames: exposure, sensor noise and motion blur, drawn from the
// simulator's seeded PRNG. One pass over the bytes with a per-frame lookup table and a noise
// table read at a random offset keeps it to about a millisecond.
import type { Rng } from '../rng.ts';

export interface Randomisation {
  /** Exposure gain drawn uniformly from [1 - exposure, 1 + exposure] per frame. */
  exposure: number;
  /** Standard deviation of additive per-channel noise, in 0..255 units. */
  noiseSigma: number;
  /** Chance per frame of a horizontal 3-tap motion blur. */
  blurProbability: number;
}

export const NO_RANDOMISATION: Randomisation = { exposure: 0, noiseSigma: 0, blurProbability: 0 };
export const DEFAULT_RANDOMISATION: Randomisation = { exposure: 0.25, noiseSigma: 4, blurProbability: 0.2 };

export class RandomisationError extends Error {
  override readonly name = 'RandomisationError';
  constructor(
    readonly field: keyof Randomisation,
    readonly value: number,
    expected: string,
  ) {
    super(`randomisation ${field} = ${value}, expected ${expected}`);
  }
}

const NOISE_BITS = 20;

export class FrameEffects {
  readonly params: Readonly<Randomisation>;
  readonly #noise: Int8Array | undefined;
  readonly #lut = new Uint8Array(256);

  constructor(params: Randomisation, rng: Rng) {
    if (!(params.exposure >= 0 && params.exposure < 1)) throw new RandomisationError('exposure', params.exposure, '0..1');
    if (!(params.noiseSigma >= 0 && params.noiseSigma <= 40))
      throw new RandomisationError('noiseSigma', params.noiseSigma, '0..40');
    if (!(params.blurProbability >= 0 && params.blurProbability <= 1))
      throw new RandomisationError('blurProbability', params.blurProbability, '0..1');
    this.params = { ...params };
    if (params.noiseSigma > 0) {
      this.#noise = new Int8Array(1 << NOISE_BITS);
      for (let i = 0; i < this.#noise.length; i++)
        this.#noise[i] = Math.max(-127, Math.min(127, Math.round(rng.normal() * params.noiseSigma)));
    }
  }

  get enabled(): boolean {
    const p = this.params;
    return p.exposure > 0 || p.noiseSigma > 0 || p.blurProbability > 0;
  }

  /** Applies this frame's draw in place. Always draws the same number of values from rng. */
  apply(frame: Uint8Array, rowBytes: number, rng: Rng): void {
    const gain = 1 + this.params.exposure * (2 * rng.next() - 1);
    const offset = Math.floor(rng.next() * (1 << NOISE_BITS));
    const blur = rng.next() < this.params.blurProbability;
    if (blur) blurRows(frame, rowBytes);
    const lut = this.#lut;
    for (let v = 0; v < 256; v++) lut[v] = Math.min(255, Math.round(v * gain));
    const noise = this.#noise;
    const n = frame.length;
    if (noise === undefined) {
      if (gain !== 1) for (let i = 0; i < n; i++) frame[i] = lut[frame[i]!]!;
      return;
    }
    const mask = (1 << NOISE_BITS) - 1;
    for (let i = 0; i < n; i++) {
      const v = lut[frame[i]!]! + noise[(i + offset) & mask]!;
      frame[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

/** [1 2 1] / 4 along each row, per channel, in place. */
function blurRows(frame: Uint8Array, rowBytes: number): void {
  for (let start = 0; start < frame.length; start += rowBytes) {
    const end = start + rowBytes;
    for (let ch = 0; ch < 3; ch++) {
      let prev = frame[start + ch]!;
      for (let i = start + ch; i < end; i += 3) {
        const cur = frame[i]!;
        const next = i + 3 < end ? frame[i + 3]! : cur;
        frame[i] = (prev + 2 * cur + next + 2) >> 2;
        prev = cur;
      }
    }
  }
}
