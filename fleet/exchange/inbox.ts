// Verified models held per peer for a bounded number of recent rounds, and the silo's waits for
// them. A model that arrived during weak rounds (travelling in the background) is still here
// when the silo asks for it; older rounds are dropped so memory stays bounded by
// peers x heldRounds models.

import type { ModelUpdate } from './types.ts';

export type Cancel = () => void;

/** The time the exchange runs on (structurally the nodes' Clock, so a ManualClock fits). */
export interface ExchangeClock {
  /** Milliseconds, fractional. */
  now(): number;
  /** Calls fn once after delayMs of this clock's time. */
  after(delayMs: number, fn: () => void): Cancel;
}

export const systemClock: ExchangeClock = {
  now: () => performance.timeOrigin + performance.now(),
  after: (delayMs, fn) => {
    const id = setTimeout(fn, delayMs);
    return () => clearTimeout(id);
  },
};

interface Waiter {
  readonly round: number;
  readonly resolve: (u: ModelUpdate | undefined) => void;
}

export class ModelInbox {
  readonly #heldRounds: number;
  readonly #clock: ExchangeClock;
  readonly #held = new Map<string, Map<number, ModelUpdate>>();
  readonly #newest = new Map<string, ModelUpdate>();
  readonly #waiters = new Map<string, Set<Waiter>>();

  constructor(heldRounds: number, clock: ExchangeClock) {
    if (!(Number.isInteger(heldRounds) && heldRounds >= 1)) {
      throw new RangeError(`heldRounds must be a positive integer, got ${heldRounds}`);
    }
    this.#heldRounds = heldRounds;
    this.#clock = clock;
  }

  /** Holds a verified update (replacing an older one of the same round) and wakes its waiters. */
  put(update: ModelUpdate): void {
    let rounds = this.#held.get(update.silo);
    if (rounds === undefined) this.#held.set(update.silo, (rounds = new Map()));
    rounds.set(update.round, update);
    while (rounds.size > this.#heldRounds) rounds.delete(Math.min(...rounds.keys()));
    const newest = this.#newest.get(update.silo);
    if (newest === undefined || update.counter > newest.counter) this.#newest.set(update.silo, update);
    for (const w of this.#waiters.get(update.silo) ?? []) if (w.round === update.round) w.resolve(update);
  }

  get(peer: string, round: number): ModelUpdate | undefined {
    return this.#held.get(peer)?.get(round);
  }

  newest(peer: string): ModelUpdate | undefined {
    return this.#newest.get(peer);
  }

  /** Rounds held for `peer`, ascending. */
  heldRounds(peer: string): number[] {
    return [...(this.#held.get(peer)?.keys() ?? [])].sort((a, b) => a - b);
  }

  wait(
    peer: string,
    round: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ModelUpdate | undefined> {
    const held = this.get(peer, round);
    if (held !== undefined || signal?.aborted === true || timeoutMs <= 0) return Promise.resolve(held);
    return new Promise((resolvePromise) => {
      let set = this.#waiters.get(peer);
      if (set === undefined) this.#waiters.set(peer, (set = new Set()));
      const waiters = set;
      const finish = (u: ModelUpdate | undefined): void => {
        waiters.delete(waiter);
        if (waiters.size === 0) this.#waiters.delete(peer);
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        resolvePromise(u);
      };
      const waiter: Waiter = { round, resolve: finish };
      const onAbort = (): void => finish(undefined);
      waiters.add(waiter);
      const cancelTimer = this.#clock.after(timeoutMs, () => finish(undefined));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Resolves every wait with undefined (the exchange is closing). */
  close(): void {
    for (const set of [...this.#waiters.values()]) for (const w of [...set]) w.resolve(undefined);
  }
}
