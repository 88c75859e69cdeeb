// The receiving side of the exchange as a pure state machine: chunk messages in, verified model
// updates or rejections out. The order of the checks is the point:
//   1. framing and header schema, chunk sha256 (parseChunk)
//   2. fleet and topic agree with the header
//   3. signer in the trusted keys, Ed25519 signature over the envelope (first chunk of an update,
//      so bytes from an unknown or forged sender are never buffered)
//   4. replay: round inside the held window, counter in round order against the accepted ones
//   5. bounded reassembly, payload sha256
//   6. decode, names, shapes, finite values (decodeWeights)
//   7. norm inside the recent range
// Only an update that passed all of them is recorded (replay state, norm window) and returned.

import type { ModelUpdate, Rejection } from './types.ts';
import { decodeWeights } from './codec.ts';
import { parseChunk, verifyEnvelope, type ChunkHeader, type Envelope } from './envelope.ts';
import {
  DEFAULT_NORM_GATE,
  DEFAULT_REPLAY_WINDOW,
  NormTracker,
  ReplayGuard,
  weightNorm,
  type NormGateOptions,
} from './gates.ts';
import type { TrustedKeys } from './keys.ts';
import { assemblyKey, DEFAULT_REASSEMBLY_LIMITS, Reassembler, type ReassemblyLimits } from './reassembly.ts';

export interface ReceiverOptions {
  readonly fleet: string;
  /** This silo's id: its own chunks (echoed by the broker) are ignored. */
  readonly self: string;
  readonly trusted: TrustedKeys;
  readonly limits?: ReassemblyLimits;
  readonly norm?: NormGateOptions;
  /** Rounds of a silo held in the replay window (the exchange's `heldRounds`, 8 by default). */
  readonly heldRounds?: number;
}

export type ReceiveEvent =
  | { readonly kind: 'accepted'; readonly update: ModelUpdate }
  | { readonly kind: 'rejected'; readonly rejection: Rejection }
  /** A chunk of an update already accepted or already refused: nothing to do. */
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'progress' };

/** How many refused updates are remembered, so their other chunks are dropped without a log line each. */
const REFUSED_MEMORY = 256;

export class UpdateReceiver {
  readonly #o: ReceiverOptions;
  readonly #reassembler: Reassembler;
  readonly #replay: ReplayGuard;
  readonly #norms: NormTracker;
  readonly #refused = new Set<string>();

  constructor(options: ReceiverOptions) {
    this.#o = options;
    this.#reassembler = new Reassembler(options.limits ?? DEFAULT_REASSEMBLY_LIMITS);
    this.#norms = new NormTracker(options.norm ?? DEFAULT_NORM_GATE);
    this.#replay = new ReplayGuard(options.heldRounds ?? DEFAULT_REPLAY_WINDOW);
  }

  /** Payloads being reassembled now. */
  get pending(): number {
    return this.#reassembler.pending;
  }

  /** The silo's own model is a trusted reference for the norm gate. */
  noteOwnNorm(norm: number): void {
    this.#norms.record(norm);
  }

  /** One chunk message from the topic of `topicSilo`, at `nowMs`. */
  receive(topicSilo: string, bytes: Uint8Array, nowMs: number): ReceiveEvent[] {
    const events: ReceiveEvent[] = this.expire(nowMs);
    const parsed = parseChunk(bytes);
    if (!parsed.ok) {
      const h = parsed.header;
      events.push(reject(h?.silo ?? topicSilo, h?.round, parsed.reason));
      return events;
    }
    const { header, data } = parsed;
    if (header.fleet !== this.#o.fleet) {
      events.push(
        reject(topicSilo, header.round, `chunk for fleet "${header.fleet}" on fleet "${this.#o.fleet}"`),
      );
      return events;
    }
    if (header.silo !== topicSilo) {
      events.push(
        reject(
          topicSilo,
          header.round,
          `chunk signed as silo "${header.silo}" on silo "${topicSilo}"'s topic`,
        ),
      );
      return events;
    }
    if (header.silo === this.#o.self) return events;
    const key = assemblyKey(header);
    if (this.#refused.has(key)) {
      events.push({ kind: 'duplicate' });
      return events;
    }
    if (!this.#reassembler.isOpen(header)) {
      const refusal = this.#admit(header);
      if (refusal === 'duplicate') {
        events.push({ kind: 'duplicate' });
        return events;
      }
      if (refusal !== undefined) {
        events.push(this.#refuse(header, refusal));
        return events;
      }
      const opened = this.#reassembler.open(header, nowMs);
      if ('refused' in opened) {
        events.push(this.#refuse(header, opened.refused));
        return events;
      }
      for (const d of opened.dropped) events.push(reject(d.envelope.silo, d.envelope.round, d.reason));
    }
    const added = this.#reassembler.add(header, data, bytes.length, nowMs);
    switch (added.kind) {
      case 'progress':
        events.push({ kind: 'progress' });
        break;
      case 'duplicate-chunk':
        events.push({ kind: 'duplicate' });
        break;
      case 'refused':
        // A damaged or disagreeing transfer, not a verdict on the signed update: the same update
        // may still arrive whole (a republish, the retained copy), so it is not remembered.
        events.push(reject(header.silo, header.round, added.reason));
        break;
      case 'complete':
        events.push(this.#complete(added.envelope, added.payload, added.wireBytes));
        break;
    }
    return events;
  }

  /** Drops payloads that stopped arriving (call it now and then; receive() calls it too). */
  expire(nowMs: number): ReceiveEvent[] {
    return this.#reassembler.expire(nowMs).map((d) => reject(d.envelope.silo, d.envelope.round, d.reason));
  }

  /** Signer and replay checks for the first chunk of an update; the refusal reason, if any. */
  #admit(header: ChunkHeader): string | 'duplicate' | undefined {
    const publicKey = this.#o.trusted.get(header.silo);
    if (publicKey === undefined) return `unknown signer: silo "${header.silo}" is not in the trusted keys`;
    if (!verifyEnvelope(header, header.sig, publicKey)) {
      return `bad signature: the envelope is not signed by silo "${header.silo}"'s key`;
    }
    const verdict = this.#replay.check(header);
    if (verdict.kind === 'duplicate') return 'duplicate';
    if (verdict.kind === 'replay') return verdict.reason;
    return undefined;
  }

  #complete(e: Envelope, payload: Uint8Array, wireBytes: number): ReceiveEvent {
    // Another update of this silo may have been accepted while this one was arriving.
    const verdict = this.#replay.check(e);
    if (verdict.kind === 'duplicate') return { kind: 'duplicate' };
    if (verdict.kind === 'replay') return this.#refuse(e, verdict.reason);
    let decoded;
    try {
      decoded = decodeWeights(payload);
    } catch (error) {
      return this.#refuse(e, (error as Error).message);
    }
    if (decoded.encoding !== e.encoding) {
      return this.#refuse(e, `payload is ${decoded.encoding}, the signed envelope says ${e.encoding}`);
    }
    const norm = weightNorm(decoded.weights);
    const normRefusal = this.#norms.check(norm);
    if (normRefusal !== undefined) return this.#refuse(e, normRefusal);
    this.#norms.record(norm);
    this.#replay.accept(e);
    this.#reassembler.discardStale(e.silo, (open) => this.#replay.check(open).kind !== 'fresh');
    return {
      kind: 'accepted',
      update: {
        silo: e.silo,
        round: e.round,
        counter: e.counter,
        weights: decoded.weights,
        encoding: e.encoding,
        wireBytes,
      },
    };
  }

  #refuse(e: Envelope, reason: string): ReceiveEvent {
    this.#remember(assemblyKey(e));
    return reject(e.silo, e.round, reason);
  }

  #remember(key: string): void {
    this.#refused.add(key);
    if (this.#refused.size > REFUSED_MEMORY) this.#refused.delete(this.#refused.values().next().value!);
  }
}

const reject = (silo: string | undefined, round: number | undefined, reason: string): ReceiveEvent => ({
  kind: 'rejected',
  rejection: { silo, round, reason },
});
