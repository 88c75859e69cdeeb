// The multigraph of an overlay and its states (specification, 5). States are never stored:
// s_max = lcm of the multiplicities can be large, and whether arc e is strong in state s is
// just s mod n(e) == 0 (its countdown starts at n(e) and is strong whenever it is back there).
// The planner's improvement may start a countdown elsewhere (a phase p < n(e): strong when
// s mod n(e) == p); the paper's multigraph has every phase 0.

import type { Fleet } from './fleet.ts';
import { TopologyInputError } from './errors.ts';
import type { Arc } from './karp.ts';
import { arcDelays } from './overlays.ts';
import type { Overlay } from './overlays.ts';
import { roundHalfEven } from '../../common/index.ts';

export interface Multigraph {
  readonly overlay: Overlay;
  readonly tMax: number;
  /** Delay of every overlay arc without degrees (ms). */
  readonly baseDelayMs: Float64Array;
  /** n(u, v) for every overlay arc: one strong edge and n - 1 weak ones. */
  readonly multiplicity: Int32Array;
  /** Strong in state s iff s mod n(e) == phase(e); all 0 in the paper's construction. */
  readonly phase: Int32Array;
  /** s_max, the number of distinct states. */
  readonly stateCount: number;
}

/** Largest t_max accepted: s_max = lcm(1..t_max) must stay an exact integer in a double. */
export const T_MAX_LIMIT = 32;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export function lcm(values: Iterable<number>): number {
  let result = 1;
  for (const v of values) result = (result / gcd(result, v)) * v;
  return result;
}

export function validateTMax(tMax: number): void {
  if (!Number.isInteger(tMax) || tMax < 1 || tMax > T_MAX_LIMIT) {
    throw new TopologyInputError(`t_max must be an integer in 1..${T_MAX_LIMIT}, got ${tMax}`);
  }
}

/** n(u, v) = min(t_max, round(d(u, v) / d_min)) with delays without degrees. */
export function multiplicities(baseDelayMs: Float64Array, tMax: number): Int32Array {
  validateTMax(tMax);
  const dMin = Math.min(...baseDelayMs);
  return Int32Array.from(baseDelayMs, (d) => Math.max(1, Math.min(tMax, roundHalfEven(d / dMin))));
}

export function buildMultigraph(fleet: Fleet, overlay: Overlay, tMax: number): Multigraph {
  if (overlay.arcs.length === 0) throw new TopologyInputError('an overlay with no arcs has no multigraph');
  const baseDelayMs = arcDelays(fleet, overlay.arcs, false);
  const multiplicity = multiplicities(baseDelayMs, tMax);
  return withMultiplicities(overlay, baseDelayMs, multiplicity, tMax);
}

export function withMultiplicities(
  overlay: Overlay,
  baseDelayMs: Float64Array,
  multiplicity: Int32Array,
  tMax: number,
  phase: Int32Array = new Int32Array(multiplicity.length),
): Multigraph {
  if (multiplicity.length !== overlay.arcs.length || phase.length !== overlay.arcs.length) {
    throw new TopologyInputError(
      `${overlay.arcs.length} arcs need as many multiplicities and phases, got ${multiplicity.length} and ${phase.length}`,
    );
  }
  multiplicity.forEach((n, e) => {
    if (!Number.isInteger(n) || n < 1 || n > tMax) {
      throw new TopologyInputError(`multiplicity ${n} of arc ${e} is outside 1..t_max (${tMax})`);
    }
    const p = phase[e] ?? 0;
    if (!Number.isInteger(p) || p < 0 || p >= n) {
      throw new TopologyInputError(`phase ${p} of arc ${e} is outside 0..${n - 1}`);
    }
  });
  return { overlay, tMax, baseDelayMs, multiplicity, phase, stateCount: lcm(multiplicity) };
}

export function stateOfRound(multigraph: Multigraph, round: number): number {
  return round % multigraph.stateCount;
}

export function isStrong(multigraph: Multigraph, arc: number, state: number): boolean {
  return state % (multigraph.multiplicity[arc] ?? 1) === (multigraph.phase[arc] ?? 0);
}

/** Mean share of arcs that are strong in a round (exact over a period): how much mixing a round does. */
export function strongShare(multiplicity: ArrayLike<number>): number {
  let sum = 0;
  for (let e = 0; e < multiplicity.length; e++) sum += 1 / (multiplicity[e] ?? 1);
  return sum / multiplicity.length;
}

/** Silos all of whose in-arcs are weak in `state`: they average with nobody and wait for nobody. */
export function isolatedSilos(multigraph: Multigraph, state: number): number[] {
  const { overlay } = multigraph;
  const hasStrongIn = new Uint8Array(overlay.size);
  overlay.arcs.forEach((arc: Arc, e) => {
    if (isStrong(multigraph, e, state)) hasStrongIn[arc.to] = 1;
  });
  const isolated: number[] = [];
  for (let v = 0; v < overlay.size; v++) if (hasStrongIn[v] === 0) isolated.push(v);
  return isolated;
}

/**
 * Whether some state has no strong arc at all. The delay model would price such a round at 0 ms,
 * which no fleet achieves (every silo still computes), so plans with one are refused. The
 * paper's rule never makes one: the arc with the smallest delay has n = 1.
 */
export function hasEmptyState(multigraph: Multigraph): boolean {
  const { multiplicity, phase, stateCount } = multigraph;
  if (multiplicity.includes(1)) return false;
  // Too many states to check one by one: refuse rather than guess.
  if (stateCount > 1_000_000) return true;
  const covered = new Uint8Array(stateCount);
  const done = new Set<string>();
  multiplicity.forEach((n, e) => {
    const p = phase[e] ?? 0;
    const key = `${n}/${p}`;
    if (done.has(key)) return;
    done.add(key);
    for (let s = p; s < stateCount; s += n) covered[s] = 1;
  });
  return covered.includes(0);
}
