// Domain randomisation of rendered frames: exposure, sensor noise and motion blur, drawn from the
// simulator's seeded PRNG. Exposure and noise are applied by the renderer as it writes each pixel
// (a tone lookup and a noise table read at a random offset), so they cost no extra pass.
import type { Rng } from '../../common/index.ts';
import { toneCurve, type Look } from './camera.ts';

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
  readonly #noise: Int8Array;
  readonly #tone = toneCurve(1);

  constructor(params: Randomisation, rng: Rng) {
    if (!(params.exposure >= 0 && params.exposure < 1))
      throw new RandomisationError('exposure', params.exposure, '0..1');
    if (!(params.noiseSigma >= 0 && params.noiseSigma <= 40))
      throw new RandomisationError('noiseSigma', params.noiseSigma, '0..40');
    if (!(params.blurProbability >= 0 && params.blurProbability <= 1))
      throw new RandomisationError('blurProbability', params.blurProbability, '0..1');
    this.params = { ...params };
    // Luminance noise, one value per pixel (all channels): the model sees grey anyway.
    this.#noise = new Int8Array(params.noiseSigma > 0 ? 1 << NOISE_BITS : 1);
    if (params.noiseSigma > 0) {
      for (let i = 0; i < this.#noise.length; i++)
        this.#noise[i] = Math.max(-127, Math.min(127, Math.round(rng.normal() * params.noiseSigma)));
    }
  }

  /** This frame's exposure and noise, and whether to blur it. Always draws three values. */
  draw(rng: Rng): { look: Look; blur: boolean } {
    const gain = 1 + this.params.exposure * (2 * rng.next() - 1);
    const noiseOffset = Math.floor(rng.next() * this.#noise.length);
    const blur = rng.next() < this.params.blurProbability;
    return { look: { tone: toneCurve(gain, this.#tone), noise: this.#noise, noiseOffset }, blur };
  }
}

/** [1 2 1] / 4 along each row, per channel, in place. */
export function blurRows(frame: Uint8Array, rowBytes: number): void {
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
