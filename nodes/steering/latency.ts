// A fixed-size window of samples for p50/p99 and rates in diagnostics, no allocation per sample.
import { percentile } from '../../common/index.ts';

export class Window {
  readonly #values: Float64Array;
  #count = 0;
  #next = 0;

  constructor(size = 512) {
    this.#values = new Float64Array(size);
  }

  add(v: number): void {
    this.#values[this.#next] = v;
    this.#next = (this.#next + 1) % this.#values.length;
    this.#count = Math.min(this.#count + 1, this.#values.length);
  }

  /** Nearest-rank percentile of the samples held, `q` in [0, 1]; NaN when empty. */
  percentile(q: number): number {
    return percentile(this.#values.slice(0, this.#count).sort(), q);
  }

  get count(): number {
    return this.#count;
  }
}
