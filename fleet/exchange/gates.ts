// The checks an update passes after its signature and before it may reach a model: replay
// (round and counter), and a norm inside the recent range. Pure state machines; the receiver
// runs them in order and only an update that passes all is recorded.

import type { WeightSet } from '../../models/src/weights/weight-set.ts';
import type { Envelope } from './envelope.ts';

export type ReplayVerdict =
  | { readonly kind: 'fresh' }
  /** The very update already accepted (same silo, counter and payload): a redelivery, not an attack. */
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'replay'; readonly reason: string };

/** Accepted updates remembered per silo to recognise their redeliveries. */
const ACCEPTED_MEMORY = 16;

/** Rounds of the held window by default: the exchange's `heldRounds`. */
export const DEFAULT_REPLAY_WINDOW = 8;

/**
 * Remembers, per silo, the newest accepted update of each round in a window of recent rounds.
 * An update the receiver has not accepted yet is fresh when its round lies inside the window
 * (rounds newest-window+1 to newest, or newer), even after a newer round was accepted: a broker
 * that lost chunks in a crash makes the sender republish several rounds, and a peer that mixes a
 * stale round over a weak edge still needs the older one. The counter keeps the order honest:
 * each silo's counter grows with every update it signs, so an update's counter must be above
 * the counter accepted for its own or any earlier round and below every later round's. A replay
 * is then an update older than the window, an older counter for an accepted round, a counter
 * out of round order, or a counter reused for a different payload. An exact copy of a recently
 * accepted update (a QoS 1 redelivery, the retained or republished copy) is a duplicate: dropped
 * too, but not an attack and not logged as one.
 */
export class ReplayGuard {
  readonly #window: number;
  /** silo -> round -> the counter of the newest accepted update of that round, within the window. */
  readonly #rounds = new Map<string, Map<number, number>>();
  /** silo -> counter -> round and sha256 of its recently accepted updates. */
  readonly #accepted = new Map<string, Map<number, { readonly round: number; readonly sha256: string }>>();

  constructor(window: number = DEFAULT_REPLAY_WINDOW) {
    if (!(Number.isInteger(window) && window >= 1)) {
      throw new RangeError(`replay window must be a positive integer, got ${window}`);
    }
    this.#window = window;
  }

  check(e: Envelope): ReplayVerdict {
    const rounds = this.#rounds.get(e.silo);
    if (rounds === undefined) return { kind: 'fresh' };
    // The window first: an exact copy of an update accepted long ago is a replay too.
    const newest = Math.max(...rounds.keys());
    const oldest = newest - this.#window + 1;
    if (e.round < oldest) {
      return {
        kind: 'replay',
        reason: `replayed: round ${e.round} is older than the held window, rounds ${oldest} to ${newest}`,
      };
    }
    const seen = this.#accepted.get(e.silo)?.get(e.counter);
    if (seen !== undefined) {
      return seen.sha256 === e.sha256 && seen.round === e.round
        ? { kind: 'duplicate' }
        : { kind: 'replay', reason: `counter ${e.counter} was already used for a different update` };
    }
    let before: [number, number] | undefined; // [round, counter] accepted at or below e.round, nearest
    let after: [number, number] | undefined; // [round, counter] accepted above e.round, nearest
    for (const [round, counter] of rounds) {
      if (round <= e.round && (before === undefined || round > before[0])) before = [round, counter];
      if (round > e.round && (after === undefined || round < after[0])) after = [round, counter];
    }
    if (before !== undefined && e.counter <= before[1]) {
      return {
        kind: 'replay',
        reason: `replayed: counter ${e.counter} (round ${e.round}) is older than the accepted counter ${before[1]} (round ${before[0]})`,
      };
    }
    if (after !== undefined && e.counter >= after[1]) {
      return {
        kind: 'replay',
        reason: `replayed: counter ${e.counter} (round ${e.round}) is not older than the accepted counter ${after[1]} of the later round ${after[0]}`,
      };
    }
    return { kind: 'fresh' };
  }

  accept(e: Envelope): void {
    let rounds = this.#rounds.get(e.silo);
    if (rounds === undefined) this.#rounds.set(e.silo, (rounds = new Map()));
    rounds.set(e.round, e.counter);
    const oldest = Math.max(...rounds.keys()) - this.#window + 1;
    for (const round of rounds.keys()) if (round < oldest) rounds.delete(round);
    let recent = this.#accepted.get(e.silo);
    if (recent === undefined) this.#accepted.set(e.silo, (recent = new Map()));
    recent.set(e.counter, { round: e.round, sha256: e.sha256 });
    if (recent.size > ACCEPTED_MEMORY) recent.delete(recent.keys().next().value!);
  }

  /** The highest counter accepted from `silo` (that of its newest round). */
  lastCounter(silo: string): number | undefined {
    const rounds = this.#rounds.get(silo);
    return rounds === undefined ? undefined : Math.max(...rounds.values());
  }
}

/** L2 norm over every tensor (batch-norm running statistics included), in float64. */
export function weightNorm(weights: WeightSet): number {
  let sum = 0;
  for (const data of weights.values()) for (let i = 0; i < data.length; i++) sum += data[i]! * data[i]!;
  return Math.sqrt(sum);
}

export interface NormGateOptions {
  /** Accepted norms remembered (the silo's own published models count too). */
  readonly window: number;
  /** An update is refused when its norm is above max * factor or below min / factor of the window. */
  readonly factor: number;
}

export const DEFAULT_NORM_GATE: NormGateOptions = { window: 16, factor: 4 };

/**
 * Refuses a model whose norm is far outside the recent range. Models of one fleet start from
 * similar initialisations and move slowly between rounds, so a norm several times larger (a
 * scaled or poisoned update) or smaller (a zeroed one) than any recent model is not a model to
 * average. Before any norm is known (no own model published, no peer accepted) it accepts.
 */
export class NormTracker {
  readonly #options: NormGateOptions;
  readonly #recent: number[] = [];

  constructor(options: NormGateOptions = DEFAULT_NORM_GATE) {
    if (!(options.window >= 1 && options.factor > 1)) {
      throw new RangeError(
        `norm gate needs window >= 1 and factor > 1, got ${options.window} and ${options.factor}`,
      );
    }
    this.#options = options;
  }

  /** The reason the norm is refused, or undefined when it is in range. */
  check(norm: number): string | undefined {
    if (!Number.isFinite(norm)) return `weight norm ${norm} is not finite`;
    if (this.#recent.length === 0) return undefined;
    const min = Math.min(...this.#recent);
    const max = Math.max(...this.#recent);
    const f = this.#options.factor;
    if (norm > max * f || norm < min / f) {
      return `weight norm ${fmt(norm)} is far outside the recent range [${fmt(min)}, ${fmt(max)}] (factor ${f})`;
    }
    return undefined;
  }

  record(norm: number): void {
    this.#recent.push(norm);
    if (this.#recent.length > this.#options.window) this.#recent.shift();
  }
}

const fmt = (v: number): string =>
  Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(3);
