// Seeded PRNG (mulberry32): small, fast and good enough for weights, shuffles, noise and point
// placement; not for anything secret. A seed fixes every value bit for bit, which the shipped
// model's reproducibility and the simulator's determinism rely on.

/** A generator of uniform values in [0, 1) for `seed` (taken as an unsigned 32-bit integer). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** mulberry32 with uniform and normal draws on top; the same sequence as `mulberry32(seed)`. */
export class Rng {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#next();
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.#next();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.#next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#next());
  }
}
