// Telemetry made while the broker is out of reach. A robot may be away for hours, so memory is
// bounded by count and by bytes: the oldest records go first (counted), and what is left is
// sent oldest to newest on reconnect, so the newest ends as the retained one. Pure.

export interface BufferLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

export const DEFAULT_BUFFER_LIMITS: BufferLimits = { maxRecords: 600, maxBytes: 1024 * 1024 };

export class TelemetryBufferError extends Error {
  override readonly name = 'TelemetryBufferError';
}

export class TelemetryBuffer {
  readonly #limits: BufferLimits;
  #items: Uint8Array[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(limits: BufferLimits = DEFAULT_BUFFER_LIMITS) {
    if (!Number.isInteger(limits.maxRecords) || limits.maxRecords < 1)
      throw new TelemetryBufferError(
        `maxRecords must be a whole number of at least 1, got ${limits.maxRecords}`,
      );
    if (!Number.isInteger(limits.maxBytes) || limits.maxBytes < 1)
      throw new TelemetryBufferError(`maxBytes must be a whole number of at least 1, got ${limits.maxBytes}`);
    this.#limits = limits;
  }

  /** Keeps `payload`, dropping the oldest until both limits hold; one larger than maxBytes is dropped itself. */
  push(payload: Uint8Array): void {
    if (payload.byteLength > this.#limits.maxBytes) {
      this.#dropped++;
      return;
    }
    this.#items.push(payload);
    this.#bytes += payload.byteLength;
    while (this.#items.length > this.#limits.maxRecords || this.#bytes > this.#limits.maxBytes) {
      this.#bytes -= this.#items.shift()!.byteLength;
      this.#dropped++;
    }
  }

  /** Puts back payloads that failed to go out, ahead of newer ones, within the same limits. */
  unshift(payloads: readonly Uint8Array[]): void {
    const newer = this.#items;
    this.#items = [];
    this.#bytes = 0;
    for (const p of [...payloads, ...newer]) this.push(p);
  }

  /** Everything held, oldest first; the buffer is empty afterwards. */
  drain(): Uint8Array[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return items;
  }

  get size(): number {
    return this.#items.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Records dropped since this buffer was made. */
  get dropped(): number {
    return this.#dropped;
  }
}
