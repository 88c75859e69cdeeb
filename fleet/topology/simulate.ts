// Round-by-round delay simulation of a multigraph (specification, 6). Pure.
//
// Each round's overlay is the full overlay with weak arcs at delay 0, so its arc set never
// changes: one Karp solver is built once and reused. When the overlay is a ring, its only
// cycle is the ring itself and the maximum cycle mean is the mean arc delay, O(n) per round
// instead of O(n * m): exact, not an approximation.

import type { Fleet } from './fleet.ts';
import { linkDelay } from './fleet.ts';
import { CycleMeanSolver, isHamiltonianCycle } from './karp.ts';
import type { Multigraph } from './multigraph.ts';
import { degrees } from './overlays.ts';

export interface Simulation {
  /** Mean of tau_k over the simulated rounds: the multigraph's cycle time (ms). */
  readonly meanMs: number;
  /** tau_k for every round k (ms). */
  readonly roundMs: Float64Array;
}

export interface ArcSchedule {
  /** d(u, v) with the overlay's degrees, per arc. */
  readonly fullMs: ArrayLike<number>;
  /** The least a strong arc can cost after weak rounds: the sender's compute time Tc. */
  readonly floorMs: ArrayLike<number>;
  readonly multiplicity: ArrayLike<number>;
  readonly phase: ArrayLike<number>;
  readonly stateCount: number;
}

/**
 * tau_k for rounds 0..rounds-1. `cycleMean` turns one round's arc weights into tau_k; null
 * means the arcs form a ring, whose cycle mean is the mean weight.
 */
export function simulateSchedule(
  schedule: ArcSchedule,
  rounds: number,
  cycleMean: ((weights: Float64Array) => number) | null,
  out: Float64Array = new Float64Array(rounds),
): Float64Array {
  const { fullMs, floorMs, multiplicity, phase, stateCount } = schedule;
  const m = fullMs.length;
  const weights = new Float64Array(m);
  const stored = new Float64Array(m);
  // Round 0 counts as following strong rounds: every strong arc pays its full delay.
  const previousStrong = new Uint8Array(m).fill(1);
  const strong = new Uint8Array(m);
  for (let k = 0; k < rounds; k++) {
    const state = k % stateCount;
    let sum = 0;
    for (let e = 0; e < m; e++) {
      const isStrong = state % (multiplicity[e] as number) === (phase[e] as number);
      strong[e] = isStrong ? 1 : 0;
      let w = 0;
      if (isStrong) {
        w =
          previousStrong[e] === 1
            ? (fullMs[e] as number)
            : Math.max(floorMs[e] as number, (fullMs[e] as number) - (stored[e] as number));
      }
      weights[e] = w;
      sum += w;
    }
    const tau = cycleMean === null ? sum / m : cycleMean(weights);
    // A weak arc's transfer runs in the background: it banks this round's duration.
    for (let e = 0; e < m; e++) {
      if (strong[e] === 1) stored[e] = weights[e] as number;
      else stored[e] = previousStrong[e] === 1 ? tau : tau + (stored[e] as number);
      previousStrong[e] = strong[e] as number;
    }
    out[k] = tau;
  }
  return out;
}

export function arcSchedule(fleet: Fleet, multigraph: Multigraph): ArcSchedule {
  const { arcs } = multigraph.overlay;
  const { out, in: inward } = degrees(fleet.size, arcs);
  return {
    fullMs: Float64Array.from(arcs, ({ from, to }) => linkDelay(fleet, from, to, out[from], inward[to])),
    floorMs: Float64Array.from(arcs, ({ from }) => fleet.computeMs[from] ?? 0),
    multiplicity: multigraph.multiplicity,
    phase: multigraph.phase,
    stateCount: multigraph.stateCount,
  };
}

export function simulate(fleet: Fleet, multigraph: Multigraph, rounds: number): Simulation {
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  const { arcs } = multigraph.overlay;
  let cycleMean: ((weights: Float64Array) => number) | null = null;
  if (!isHamiltonianCycle(fleet.size, arcs)) {
    const solver = new CycleMeanSolver(fleet.size, arcs);
    cycleMean = (weights) => solver.solve(weights);
  }
  const roundMs = simulateSchedule(arcSchedule(fleet, multigraph), rounds, cycleMean);
  let total = 0;
  for (const tau of roundMs) total += tau;
  return { meanMs: total / rounds, roundMs };
}
