// A least-recently-used cache of preprocessed frames bounded by bytes, so random minibatch
// reads revisit hot frames without the dataset ever holding more than its budget.

export interface CacheStats {
  readonly budgetBytes: number;
  readonly bytes: number;
  readonly entries: number;
  readonly hits: number;
  readonly misses: number;
}

export class FrameCache {
  readonly #budget: number;
  // Map iteration order is insertion order: re-inserting on a hit makes the first key the LRU one.
  readonly #entries = new Map<number, Float32Array>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(budgetBytes: number) {
    if (!(budgetBytes >= 0)) throw new RangeError(`cache budget must be >= 0 bytes, got ${budgetBytes}`);
    this.#budget = budgetBytes;
  }

  get(key: number): Float32Array | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) {
      this.#misses += 1;
      return undefined;
    }
    this.#hits += 1;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Stores a copy; a value larger than the whole budget is not cached at all. */
  put(key: number, value: Float32Array): void {
    if (value.byteLength > this.#budget || this.#entries.has(key)) return;
    while (this.#bytes + value.byteLength > this.#budget) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#bytes -= this.#entries.get(oldest.value)!.byteLength;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value.slice());
    this.#bytes += value.byteLength;
  }

  stats(): CacheStats {
    return {
      budgetBytes: this.#budget,
      bytes: this.#bytes,
      entries: this.#entries.size,
      hits: this.#hits,
      misses: this.#misses,
    };
  }
}
