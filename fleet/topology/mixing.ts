// What each silo does in a round (specification, 7): which in-neighbours are strong, which
// weak, whether it is isolated, and its consensus weights. This is the run-time contract the
// federated silos follow. Pure.

import type { Multigraph } from './multigraph.ts';
import { isStrong, stateOfRound } from './multigraph.ts';

/** The reference weights: 0.7 on the silo's own model, 0.3 shared by its strong in-neighbours. */
export const SELF_WEIGHT = 0.7;
/** Written out rather than 1 - 0.7, which is 0.30000000000000004 in binary. */
export const SHARED_WEIGHT = 0.3;

export interface StrongInNeighbour {
  readonly silo: number;
  readonly weight: number;
  /**
   * How many rounds old the model arriving over this arc is: 0 when the arc was strong in the
   * previous round too (the receiver waits for this round's model); otherwise the number of
   * weak rounds in between, h in the paper's w_j(k - h), whose transfer ran in the background.
   */
  readonly staleness: number;
}

export interface SiloRound {
  readonly silo: number;
  readonly isolated: boolean;
  readonly selfWeight: number;
  readonly strong: readonly StrongInNeighbour[];
  readonly weak: readonly number[];
}

/** For round k, what every silo averages and with which weights. */
export function siloRounds(multigraph: Multigraph, round: number): SiloRound[] {
  if (!Number.isInteger(round) || round < 0)
    throw new RangeError(`round must be an integer >= 0, got ${round}`);
  const { overlay, multiplicity } = multigraph;
  const state = stateOfRound(multigraph, round);
  const strongIn: { silo: number; staleness: number }[][] = Array.from({ length: overlay.size }, () => []);
  const weakIn: number[][] = Array.from({ length: overlay.size }, () => []);
  overlay.arcs.forEach((arc, e) => {
    if (isStrong(multigraph, e, state)) {
      const n = multiplicity[e] ?? 1;
      // The arc was weak for the n - 1 rounds before (fewer at the start of training, when the
      // last strong round, or round 0, is nearer).
      strongIn[arc.to]?.push({ silo: arc.from, staleness: Math.min(round, n - 1) });
    } else {
      weakIn[arc.to]?.push(arc.from);
    }
  });
  return strongIn.map((strong, silo) => {
    const isolated = strong.length === 0;
    const share = isolated ? 0 : SHARED_WEIGHT / strong.length;
    return {
      silo,
      isolated,
      selfWeight: isolated ? 1 : SELF_WEIGHT,
      strong: strong.map((s) => ({ ...s, weight: share })),
      weak: weakIn[silo] ?? [],
    };
  });
}

/** Row-stochastic mixing matrix of a state: entry [i * n + j] is the weight silo i gives j. */
export function mixingMatrix(multigraph: Multigraph, state: number): Float64Array {
  const n = multigraph.overlay.size;
  const matrix = new Float64Array(n * n);
  for (const silo of siloRounds(multigraph, state)) {
    matrix[silo.silo * n + silo.silo] = silo.selfWeight;
    for (const neighbour of silo.strong) {
      matrix[silo.silo * n + neighbour.silo] =
        (matrix[silo.silo * n + neighbour.silo] ?? 0) + neighbour.weight;
    }
  }
  return matrix;
}
