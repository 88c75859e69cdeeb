// The planner: every requested overlay with its cycle time, the paper's multigraph(RING) with
// its simulated cycle time, and optionally the improved multigraph. Pure.

import { ringOverlay } from './christofides.ts';
import { TopologyInputError } from './errors.ts';
import type { Fleet } from './fleet.ts';
import { improveMultigraph } from './improve.ts';
import type { ImprovedPlan } from './improve.ts';
import { deltaMbstOverlay } from './mbst.ts';
import { buildMultigraph, validateTMax } from './multigraph.ts';
import type { Multigraph } from './multigraph.ts';
import { mstOverlay, reportedCycleTime, starOverlay } from './overlays.ts';
import type { Overlay } from './overlays.ts';
import { simulate } from './simulate.ts';

export const OVERLAY_NAMES = ['star', 'mst', 'delta-mbst', 'ring', 'multigraph'] as const;
export type OverlayName = (typeof OVERLAY_NAMES)[number];

export function isOverlayName(name: string): name is OverlayName {
  return (OVERLAY_NAMES as readonly string[]).includes(name);
}

export interface PlanOptions {
  readonly overlays: readonly OverlayName[];
  readonly tMax: number;
  readonly rounds: number;
  /** Also search for a better multigraph (see improve.ts); needs the ring. */
  readonly improve?: { readonly keepMixing: boolean } | false;
}

export interface PlannedOverlay {
  readonly overlay: Overlay;
  /** As the paper reports it (STAR: gather plus scatter). */
  readonly cycleTimeMs: number;
}

export interface PlannedMultigraph {
  readonly multigraph: Multigraph;
  readonly cycleTimeMs: number;
  readonly roundMs: Float64Array;
}

export interface TopologyPlan {
  readonly fleet: Fleet;
  readonly options: PlanOptions;
  readonly star: PlannedOverlay | null;
  readonly mst: PlannedOverlay | null;
  readonly deltaMbst: (PlannedOverlay & { readonly delta: number | null }) | null;
  readonly ring: PlannedOverlay | null;
  readonly multigraph: PlannedMultigraph | null;
  readonly improved: ImprovedPlan | null;
}

export function planTopology(fleet: Fleet, options: PlanOptions): TopologyPlan {
  if (fleet.size < 2) throw new TopologyInputError(`a fleet needs at least 2 silos, got ${fleet.size}`);
  if (!Number.isInteger(options.rounds) || options.rounds < 1) {
    throw new TopologyInputError(`rounds must be a positive integer, got ${options.rounds}`);
  }
  validateTMax(options.tMax);
  const wants = (name: OverlayName): boolean => options.overlays.includes(name);
  const planned = (overlay: Overlay): PlannedOverlay => ({
    overlay,
    cycleTimeMs: reportedCycleTime(fleet, overlay),
  });

  const needsRing =
    wants('ring') || wants('multigraph') || (options.improve !== undefined && options.improve !== false);
  const ring = needsRing ? planned(ringOverlay(fleet)) : null;
  let multigraph: PlannedMultigraph | null = null;
  if (ring !== null && wants('multigraph')) {
    const graph = buildMultigraph(fleet, ring.overlay, options.tMax);
    const simulation = simulate(fleet, graph, options.rounds);
    multigraph = { multigraph: graph, cycleTimeMs: simulation.meanMs, roundMs: simulation.roundMs };
  }
  const deltaMbst = wants('delta-mbst') ? deltaMbstOverlay(fleet) : null;
  return {
    fleet,
    options,
    star: wants('star') ? planned(starOverlay(fleet)) : null,
    mst: wants('mst') ? planned(mstOverlay(fleet)) : null,
    deltaMbst:
      deltaMbst === null
        ? null
        : { overlay: deltaMbst.overlay, cycleTimeMs: deltaMbst.cycleTimeMs, delta: deltaMbst.delta },
    ring: wants('ring') || wants('multigraph') ? ring : null,
    multigraph,
    improved:
      ring !== null && options.improve !== undefined && options.improve !== false
        ? improveMultigraph(fleet, ring.overlay, {
            tMax: options.tMax,
            rounds: options.rounds,
            keepMixing: options.improve.keepMixing,
          })
        : null,
  };
}
