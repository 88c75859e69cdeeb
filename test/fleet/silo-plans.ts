// Plans and schedule arithmetic the silo tests share, computed from the arcs' history alone
// (not through the silo's round decision), so the tests check the silo against the planner.
import { parsePlan, PLAN_FORMAT } from '../../fleet/silo/index.ts';
import type { FleetPlan } from '../../fleet/silo/index.ts';
import { isStrong, mixingMatrix } from '../../fleet/topology/index.ts';

export const IDS = ['rb-a', 'rb-b', 'rb-c', 'rb-d'];

/** A ring with mixed multiplicities and one staggered phase, plus a chord: stale, fresh and isolated rounds. */
export function mixedPlan(): FleetPlan {
  return parsePlan(
    {
      format: PLAN_FORMAT,
      silos: IDS,
      arcs: [
        { from: 'rb-a', to: 'rb-b', multiplicity: 1 },
        { from: 'rb-b', to: 'rb-c', multiplicity: 2 },
        { from: 'rb-c', to: 'rb-d', multiplicity: 3, phase: 1 },
        { from: 'rb-d', to: 'rb-a', multiplicity: 2 },
        { from: 'rb-a', to: 'rb-c', multiplicity: 3 },
      ],
    },
    'test-plan.json',
  );
}

/** The round whose model arrives over arc e at round k: k, or the round the arc turned weak. */
export function arrivingRound(plan: FleetPlan, e: number, k: number): number {
  const { multigraph } = plan;
  if (k === 0 || isStrong(multigraph, e, (k - 1) % multigraph.stateCount)) return k;
  let last = k - 1;
  while (last >= 0 && !isStrong(multigraph, e, last % multigraph.stateCount)) last--;
  return last + 1; // 0 when the arc was never strong before
}

/**
 * x_i(k+1) = sum_j A(k)[i][j] * u_j(round over arc j->i), A(k) the planner's mixing matrix of
 * round k's state and u_j(r) silo j's local update of round r; computed in float64.
 */
export function directMix(
  plan: FleetPlan,
  k: number,
  i: number,
  local: (silo: number, round: number) => ReadonlyMap<string, Float32Array>,
): Map<string, Float64Array> {
  const n = plan.ids.length;
  const matrix = mixingMatrix(plan.multigraph, k % plan.multigraph.stateCount);
  const out = new Map<string, Float64Array>();
  for (let j = 0; j < n; j++) {
    const a = matrix[i * n + j]!;
    if (a === 0) continue;
    const e = plan.multigraph.overlay.arcs.findIndex((arc) => arc.from === j && arc.to === i);
    const model = local(j, j === i ? k : arrivingRound(plan, e, k));
    for (const [name, values] of model) {
      let acc = out.get(name);
      if (acc === undefined) out.set(name, (acc = new Float64Array(values.length)));
      for (let v = 0; v < values.length; v++) acc[v]! += a * values[v]!;
    }
  }
  return out;
}
