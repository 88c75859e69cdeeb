// A silo's view of its links: round-trip times and throughput of probes to each peer, smoothed,
// then quantised into the integers a measurement row carries. Pure: times and byte counts in,
// numbers out; the probes themselves travel in the MQTT adapter.

/** One link as a row carries it: integers only, so every silo reads the same values. */
export interface LinkMeasurement {
  readonly to: string;
  /** Smoothed round-trip time, whole milliseconds, at least 1. */
  readonly rttMs: number;
  /** Smoothed throughput, bits/s, two significant digits. */
  readonly bps: number;
}

/** Weight of a new sample in the moving average: a few probes follow a step, one outlier does not. */
export const DEFAULT_SMOOTHING = 0.3;

/**
 * Two significant digits: throughput estimates vary by a few percent between probes, and a plan
 * should not depend on digits nobody can reproduce.
 */
export function quantiseBps(bps: number): number {
  if (!(Number.isFinite(bps) && bps > 0)) throw new RangeError(`throughput must be positive, got ${bps}`);
  const scale = 10 ** Math.max(0, Math.floor(Math.log10(bps)) - 1);
  return Math.max(1, Math.round(bps / scale) * scale);
}

export const quantiseRttMs = (rttMs: number): number => Math.max(1, Math.round(rttMs));

/** Exponentially smoothed RTT and throughput per peer. */
export class LinkEstimator {
  readonly #alpha: number;
  readonly #links = new Map<string, { rttMs: number; bps: number }>();

  constructor(alpha = DEFAULT_SMOOTHING) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`smoothing must be in (0, 1], got ${alpha}`);
    this.#alpha = alpha;
  }

  /**
   * One answered probe: `bytes` went out and came back in `rttMs`. Throughput is the bits moved
   * both ways over the round trip, a lower bound of the link's rate that grows with its delay
   * the way a model transfer's time does.
   */
  observe(peer: string, rttMs: number, bytes: number): void {
    if (!(Number.isFinite(rttMs) && rttMs >= 0)) throw new RangeError(`rtt must be >= 0 ms, got ${rttMs}`);
    const bps = (2 * bytes * 8 * 1000) / Math.max(rttMs, 0.1);
    const old = this.#links.get(peer);
    const a = this.#alpha;
    this.#links.set(
      peer,
      old === undefined
        ? { rttMs, bps }
        : { rttMs: old.rttMs + a * (rttMs - old.rttMs), bps: old.bps + a * (bps - old.bps) },
    );
  }

  has(peer: string): boolean {
    return this.#links.has(peer);
  }

  /** The quantised links to `peers` that have an estimate, sorted by peer id. */
  links(peers: readonly string[]): LinkMeasurement[] {
    return [...peers].sort().flatMap((to) => {
      const l = this.#links.get(to);
      return l === undefined ? [] : [{ to, rttMs: quantiseRttMs(l.rttMs), bps: quantiseBps(l.bps) }];
    });
  }
}
