// The fleet a silo runs in: its silos by id and the multigraph they follow. The planner numbers
// silos 0..n-1; the fleet speaks of robot ids. A plan file maps the two explicitly (its `silos`
// list, in plan order), so renaming or adding a robot can never silently shift who mixes with
// whom. Pure: parsing and validation only, the file is read by the caller.

import { z } from 'zod';

import type { Arc, Multigraph, Overlay, TopologyPlan } from '../topology/index.ts';
import { T_MAX_LIMIT, withMultiplicities } from '../topology/multigraph.ts';
import { NAME_PATTERN } from '../exchange/topics.ts';
import { FleetPlanError } from './errors.ts';

export const PLAN_FORMAT = 'fadnet-edge/fleet-plan@1';

/** Silo ids travel in MQTT topics and file names: the exchange's rule, checked here before anything connects. */
export const siloIdSchema = z.string().regex(NAME_PATTERN, "a silo id is 1-64 letters, digits, '-' or '_'");

const arcSchema = z
  .object({
    from: siloIdSchema,
    to: siloIdSchema,
    /** n(u, v): strong once every n rounds. */
    multiplicity: z.number().int().min(1).max(T_MAX_LIMIT).default(1),
    /** Strong in rounds k with k mod n == phase. */
    phase: z.number().int().min(0).default(0),
  })
  .strict();

export const planFileSchema = z
  .object({
    format: z.literal(PLAN_FORMAT),
    /** Plan index i is silos[i]. */
    silos: z.array(siloIdSchema).min(2),
    kind: z.enum(['star', 'mst', 'delta-mbst', 'ring']).default('ring'),
    arcs: z.array(arcSchema).min(1),
  })
  .strict();

export type PlanFile = z.input<typeof planFileSchema>;

export interface FleetPlan {
  /** Silo ids in plan order: silo index i is ids[i]. */
  readonly ids: readonly string[];
  readonly multigraph: Multigraph;
}

function zodDetail(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`)
    .join('; ');
}

/** Validates a parsed plan file: unique ids, arcs between listed silos, no self-loops or duplicates. */
export function parsePlan(json: unknown, source: string): FleetPlan {
  const parsed = planFileSchema.safeParse(json);
  if (!parsed.success) throw new FleetPlanError(source, zodDetail(parsed.error), { cause: parsed.error });
  const { silos, arcs, kind } = parsed.data;
  const index = new Map<string, number>();
  silos.forEach((id, i) => {
    if (index.has(id)) throw new FleetPlanError(source, `silo "${id}" is listed twice`);
    index.set(id, i);
  });
  const seen = new Set<string>();
  const overlayArcs: Arc[] = arcs.map((arc, e) => {
    const from = index.get(arc.from);
    const to = index.get(arc.to);
    if (from === undefined) throw new FleetPlanError(source, `arcs.${e}: "${arc.from}" is not in silos`);
    if (to === undefined) throw new FleetPlanError(source, `arcs.${e}: "${arc.to}" is not in silos`);
    if (from === to) throw new FleetPlanError(source, `arcs.${e}: "${arc.from}" links to itself`);
    const key = `${from}>${to}`;
    if (seen.has(key))
      throw new FleetPlanError(source, `arcs.${e}: "${arc.from}" -> "${arc.to}" is listed twice`);
    seen.add(key);
    if (arc.phase >= arc.multiplicity) {
      throw new FleetPlanError(
        source,
        `arcs.${e}: phase ${arc.phase} must be below multiplicity ${arc.multiplicity}`,
      );
    }
    return { from, to };
  });
  const overlay: Overlay = { kind, size: silos.length, arcs: overlayArcs };
  const multiplicity = Int32Array.from(arcs, (a) => a.multiplicity);
  const multigraph = withMultiplicities(
    overlay,
    new Float64Array(arcs.length),
    multiplicity,
    Math.max(...multiplicity),
    Int32Array.from(arcs, (a) => a.phase),
  );
  return { ids: silos, multigraph };
}

/**
 * The overlay of a fleet without a plan: a directed ring over the ids in sorted order, every arc
 * strong every round (plain DPASGD on the paper's RING). A ring because each robot then sends
 * and receives one model per round whatever the fleet's size, which a robot's uplink can carry,
 * and it stays connected; all multiplicities 1 because choosing them needs link measurements,
 * which is what a plan (`fadnet topology --measurements`) is for.
 */
export function defaultPlan(ids: readonly string[], source = '--silos'): FleetPlan {
  const sorted = [...new Set(ids)].sort();
  if (sorted.length !== ids.length) throw new FleetPlanError(source, 'a silo id is listed twice');
  if (sorted.length < 2)
    throw new FleetPlanError(source, `a fleet needs at least 2 silos, got ${sorted.length}`);
  return parsePlan(
    {
      format: PLAN_FORMAT,
      silos: sorted,
      arcs: sorted.map((from, i) => ({ from, to: sorted[(i + 1) % sorted.length] })),
    },
    source,
  );
}

/**
 * A plan file from a topology plan (the improved multigraph when it has one), naming silo i
 * ids[i] (default: the fleet's names, as `fadnet topology` read them).
 */
export function planFileFromTopology(
  plan: TopologyPlan,
  ids: readonly string[] = plan.fleet.names,
): PlanFile {
  const multigraph = plan.improved?.multigraph ?? plan.multigraph?.multigraph;
  if (multigraph === undefined) throw new FleetPlanError('plan', 'the plan has no multigraph');
  if (ids.length !== multigraph.overlay.size) {
    throw new FleetPlanError('plan', `${ids.length} ids for ${multigraph.overlay.size} silos`);
  }
  const name = (i: number): string => ids[i] ?? String(i);
  return {
    format: PLAN_FORMAT,
    silos: [...ids],
    kind: multigraph.overlay.kind,
    arcs: multigraph.overlay.arcs.map((arc, e) => ({
      from: name(arc.from),
      to: name(arc.to),
      multiplicity: multigraph.multiplicity[e] ?? 1,
      phase: multigraph.phase[e] ?? 0,
    })),
  };
}

/** The plan index of `id`, or a FleetPlanError naming the fleet's silos. */
export function siloIndex(plan: FleetPlan, id: string, source = 'plan'): number {
  const i = plan.ids.indexOf(id);
  if (i < 0) throw new FleetPlanError(source, `silo "${id}" is not in the fleet (${plan.ids.join(', ')})`);
  return i;
}

/** The silos whose models `id` ever mixes (its overlay in-neighbours): the peers its exchange listens to. */
export function inNeighbours(plan: FleetPlan, id: string): string[] {
  const i = siloIndex(plan, id);
  const ids = plan.multigraph.overlay.arcs.filter((a) => a.to === i).map((a) => plan.ids[a.from]!);
  return [...new Set(ids)];
}
