// A fixed-size window of samples for p50/p99 and rates in diagnostics, no allocation per sample.
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

  percentile(p: number): number {
    if (this.#count === 0) return Number.NaN;
    const sorted = Array.from(this.#values.subarray(0, this.#count)).sort((a, b) => a - b);
    return sorted[Math.min(this.#count - 1, Math.max(0, Math.ceil((p / 100) * this.#count) - 1))]!;
  }

  get count(): number {
    return this.#count;
  }
}
