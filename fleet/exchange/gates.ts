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

interface Last {
  readonly counter: number;
  readonly round: number;
}

/** Accepted updates remembered per silo to recognise their redeliveries. */
const ACCEPTED_MEMORY = 16;

/**
 * Remembers the newest accepted update per silo. A silo's counter must grow with every update
 * and its round may not go back, so an older update sent again later is refused. An exact copy
 * of one of the last few updates accepted from that silo (the broker's QoS 1 redelivery, the
 * retained or republished copy after a reconnect) is recognised as a duplicate: it is dropped
 * too, but it is not an attack and is not logged as one.
 */
export class ReplayGuard {
  readonly #last = new Map<string, Last>();
  /** silo -> counter -> sha256 of its recently accepted updates. */
  readonly #accepted = new Map<string, Map<number, string>>();

  check(e: Envelope): ReplayVerdict {
    const last = this.#last.get(e.silo);
    if (last === undefined) return { kind: 'fresh' };
    const seen = this.#accepted.get(e.silo)?.get(e.counter);
    if (seen !== undefined) {
      return seen === e.sha256
        ? { kind: 'duplicate' }
        : { kind: 'replay', reason: `counter ${e.counter} was already used for a different update` };
    }
    if (e.counter < last.counter) {
      return {
        kind: 'replay',
        reason: `replayed: counter ${e.counter} (round ${e.round}) is older than the accepted counter ${last.counter} (round ${last.round})`,
      };
    }
    if (e.round < last.round) {
      return { kind: 'replay', reason: `replayed: round ${e.round} after round ${last.round} was accepted` };
    }
    return { kind: 'fresh' };
  }

  accept(e: Envelope): void {
    this.#last.set(e.silo, { counter: e.counter, round: e.round });
    let recent = this.#accepted.get(e.silo);
    if (recent === undefined) this.#accepted.set(e.silo, (recent = new Map()));
    recent.set(e.counter, e.sha256);
    if (recent.size > ACCEPTED_MEMORY) recent.delete(recent.keys().next().value!);
  }

  lastCounter(silo: string): number | undefined {
    return this.#last.get(silo)?.counter;
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
