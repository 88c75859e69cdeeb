// Reassembly of chunked payloads, bounded in memory: a declared size or chunk count above the
// limits is refused before anything is allocated, at most `maxPending` payloads are open at once
// (the oldest is dropped to admit a new one), and a payload with no new chunk for `timeoutMs`
// is dropped. Pure: time comes in as an argument.

import { sha256Hex, type ChunkHeader, type Envelope, envelopeOf } from './envelope.ts';

export interface ReassemblyLimits {
  /** Largest payload accepted (bytes); FADNet in float32 is about 1.4 MB. */
  readonly maxPayloadBytes: number;
  readonly maxChunks: number;
  /** Payloads open at once. */
  readonly maxPending: number;
  /** An open payload with no new chunk for this long is dropped. */
  readonly timeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxPayloadBytes: 8 * 1024 * 1024,
  maxChunks: 4096,
  maxPending: 16,
  timeoutMs: 60_000,
};

export type AddResult =
  | { readonly kind: 'progress' }
  /** This chunk index had already arrived (a QoS 1 redelivery or a republish). */
  | { readonly kind: 'duplicate-chunk' }
  | {
      readonly kind: 'complete';
      readonly envelope: Envelope;
      readonly payload: Uint8Array;
      /** Every distinct chunk message's bytes, headers included. */
      readonly wireBytes: number;
    }
  | { readonly kind: 'refused'; readonly reason: string };

/** A payload dropped before it completed: why, and whose it was. */
export interface Dropped {
  readonly envelope: Envelope;
  readonly reason: string;
}

interface Assembly {
  readonly header: ChunkHeader;
  readonly buffer: Uint8Array;
  readonly received: Uint8Array;
  receivedCount: number;
  bytes: number;
  wireBytes: number;
  lastAt: number;
}

export const assemblyKey = (e: Envelope): string => `${e.silo}\n${e.counter}\n${e.sha256}`;

const sameUpdate = (a: ChunkHeader, b: ChunkHeader): boolean =>
  a.fleet === b.fleet &&
  a.silo === b.silo &&
  a.round === b.round &&
  a.counter === b.counter &&
  a.encoding === b.encoding &&
  a.size === b.size &&
  a.count === b.count &&
  a.sha256 === b.sha256 &&
  a.sig === b.sig;

export class Reassembler {
  readonly #limits: ReassemblyLimits;
  readonly #open = new Map<string, Assembly>();

  constructor(limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {
    this.#limits = limits;
  }

  /** Payloads open now. */
  get pending(): number {
    return this.#open.size;
  }

  isOpen(e: Envelope): boolean {
    return this.#open.has(assemblyKey(e));
  }

  /**
   * Checks a new payload's declared size and count against the limits and opens it, dropping
   * the least recently active payload when `maxPending` are open. Returns the refusal reason, or
   * the dropped payloads.
   */
  open(header: ChunkHeader, nowMs: number): { refused: string } | { dropped: Dropped[] } {
    const l = this.#limits;
    if (header.size > l.maxPayloadBytes) {
      return { refused: `payload of ${header.size} bytes exceeds the ${l.maxPayloadBytes}-byte limit` };
    }
    if (header.count > l.maxChunks) {
      return { refused: `payload in ${header.count} chunks exceeds the ${l.maxChunks}-chunk limit` };
    }
    const dropped: Dropped[] = [];
    while (this.#open.size >= l.maxPending) {
      let oldestKey: string | undefined;
      let oldestAt = Infinity;
      for (const [k, a] of this.#open) {
        if (a.lastAt < oldestAt) [oldestKey, oldestAt] = [k, a.lastAt];
      }
      const a = this.#open.get(oldestKey!)!;
      this.#open.delete(oldestKey!);
      dropped.push({
        envelope: envelopeOf(a.header),
        reason: `incomplete (${a.receivedCount}/${a.header.count} chunks) when ${l.maxPending} newer payloads needed room`,
      });
    }
    this.#open.set(assemblyKey(header), {
      header,
      buffer: new Uint8Array(header.size),
      received: new Uint8Array(header.count),
      receivedCount: 0,
      bytes: 0,
      wireBytes: 0,
      lastAt: nowMs,
    });
    return { dropped };
  }

  /** Adds a chunk of an open payload (open() first); `wireBytes` is the chunk message's length. */
  add(header: ChunkHeader, data: Uint8Array, wireBytes: number, nowMs: number): AddResult {
    const key = assemblyKey(header);
    const a = this.#open.get(key);
    if (a === undefined)
      throw new RangeError(`no open payload for silo ${header.silo} counter ${header.counter}`);
    if (!sameUpdate(a.header, header)) {
      // Only the first chunk's signature was verified; a chunk whose envelope differs is
      // dropped alone, so an injected chunk cannot cancel a genuine update.
      return { kind: 'refused', reason: `chunk ${header.index} disagrees with the update's other chunks` };
    }
    if (a.received[header.index] === 1) return { kind: 'duplicate-chunk' };
    a.buffer.set(data, header.offset);
    a.received[header.index] = 1;
    a.receivedCount++;
    a.bytes += data.length;
    a.wireBytes += wireBytes;
    a.lastAt = nowMs;
    if (a.receivedCount < a.header.count) return { kind: 'progress' };
    this.#open.delete(key);
    if (a.bytes !== a.header.size) {
      return {
        kind: 'refused',
        reason: `${a.header.count} chunks hold ${a.bytes} bytes, the payload has ${a.header.size}`,
      };
    }
    if (sha256Hex(a.buffer) !== a.header.sha256) {
      return { kind: 'refused', reason: 'reassembled payload: sha256 mismatch' };
    }
    return { kind: 'complete', envelope: envelopeOf(a.header), payload: a.buffer, wireBytes: a.wireBytes };
  }

  /** Drops payloads with no new chunk for `timeoutMs`. */
  expire(nowMs: number): Dropped[] {
    const dropped: Dropped[] = [];
    for (const [k, a] of this.#open) {
      if (nowMs - a.lastAt >= this.#limits.timeoutMs) {
        this.#open.delete(k);
        dropped.push({
          envelope: envelopeOf(a.header),
          reason: `incomplete (${a.receivedCount}/${a.header.count} chunks) after ${this.#limits.timeoutMs} ms without a new chunk`,
        });
      }
    }
    return dropped;
  }

  /**
   * Drops every open payload of `silo` that `stale` says can no longer be accepted (an update of
   * that silo was just accepted); an older round still inside the window keeps arriving.
   */
  discardStale(silo: string, stale: (e: Envelope) => boolean): void {
    for (const [k, a] of this.#open) {
      if (a.header.silo === silo && stale(a.header)) this.#open.delete(k);
    }
  }
}
