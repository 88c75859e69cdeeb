// The run-time contract of a plan: what every silo does in round k.

import { siloRounds } from './mixing.ts';
import type { SiloRound } from './mixing.ts';
import type { TopologyPlan } from './planner.ts';

/**
 * What every silo does in round k of a plan: strong in-neighbours (with their mixing weight and
 * the age of the model arriving), weak in-neighbours, whether it is isolated, and its own
 * weight (0.7, or 1.0 when isolated). Uses the improved multigraph when the plan has one.
 */
export function roundSchedule(plan: TopologyPlan, round: number): SiloRound[] {
  const multigraph = plan.improved?.multigraph ?? plan.multigraph?.multigraph;
  if (multigraph === undefined)
    throw new RangeError('the plan has no multigraph: plan it with the multigraph overlay');
  return siloRounds(multigraph, round);
}
