// How a plan reads: cycle times with one decimal as the paper prints them, the one-line JSON
// form, and the --explain listing (ring order, multiplicities, isolated silos per state). Pure.

import type { Multigraph } from './multigraph.ts';
import { isolatedSilos } from './multigraph.ts';
import type { TopologyPlan } from './planner.ts';

/** States listed one by one in --explain; s_max can reach lcm(1..t_max). */
const STATES_LISTED = 64;

export function formatMs(ms: number): string {
  return ms.toFixed(1);
}

function oneDecimal(ms: number): number {
  return Number(ms.toFixed(1));
}

export function reportJson(plan: TopologyPlan): Record<string, number | null> {
  const json: Record<string, number | null> = {};
  const { overlays } = plan.options;
  if (overlays.includes('star')) json['star'] = plan.star === null ? null : oneDecimal(plan.star.cycleTimeMs);
  if (overlays.includes('mst')) json['mst'] = plan.mst === null ? null : oneDecimal(plan.mst.cycleTimeMs);
  if (overlays.includes('delta-mbst')) {
    json['delta_mbst'] = plan.deltaMbst === null ? null : oneDecimal(plan.deltaMbst.cycleTimeMs);
  }
  if (overlays.includes('ring')) json['ring'] = plan.ring === null ? null : oneDecimal(plan.ring.cycleTimeMs);
  if (overlays.includes('multigraph')) {
    json['multigraph'] = plan.multigraph === null ? null : oneDecimal(plan.multigraph.cycleTimeMs);
  }
  if (plan.improved !== null) {
    json['multigraph_improved'] = oneDecimal(plan.improved.cycleTimeMs);
    json['t_max_improved'] = plan.improved.multigraph.tMax;
  }
  return json;
}

export function reportText(plan: TopologyPlan): string[] {
  const rows: [string, number][] = [];
  if (plan.star !== null) rows.push(['STAR', plan.star.cycleTimeMs]);
  if (plan.mst !== null) rows.push(['MST', plan.mst.cycleTimeMs]);
  if (plan.deltaMbst !== null) rows.push(['delta-MBST', plan.deltaMbst.cycleTimeMs]);
  if (plan.ring !== null && plan.options.overlays.includes('ring'))
    rows.push(['RING', plan.ring.cycleTimeMs]);
  if (plan.multigraph !== null) rows.push(['MULTIGRAPH', plan.multigraph.cycleTimeMs]);
  if (plan.improved !== null) rows.push(['MULTIGRAPH (improved)', plan.improved.cycleTimeMs]);
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, ms]) => `${name.padEnd(width)}  ${formatMs(ms).padStart(7)} ms`);
  const improved = plan.improved;
  if (improved !== null) {
    lines.push(
      improved.improved
        ? `improved plan: t_max ${improved.multigraph.tMax}, ring ${formatMs(improved.ringCycleTimeMs)} ms, ` +
            `strong arcs per round ${(100 * improved.strongShare).toFixed(1)}% ` +
            `(baseline ${(100 * improved.baseline.strongShare).toFixed(1)}%)`
        : 'improved plan: nothing beat the baseline; the baseline is kept',
    );
  }
  return lines;
}

function describeMultigraph(title: string, multigraph: Multigraph, names: readonly string[]): string[] {
  const { overlay } = multigraph;
  const lines = [title];
  if (overlay.order !== undefined) {
    lines.push(`  ring order: ${[...overlay.order, overlay.order[0] ?? 0].join(' -> ')}`);
  }
  lines.push(`  edge multiplicities n(u, v) (t_max ${multigraph.tMax}):`);
  overlay.arcs.forEach((arc, e) => {
    const phase = multigraph.phase[e] ?? 0;
    lines.push(
      `    ${arc.from} -> ${arc.to}: n=${multigraph.multiplicity[e]}` +
        `${phase === 0 ? '' : `, phase ${phase}`} (${formatMs(multigraph.baseDelayMs[e] ?? 0)} ms; ` +
        `${names[arc.from]} -> ${names[arc.to]})`,
    );
  });
  lines.push(`  isolated silos per state (s_max ${multigraph.stateCount}):`);
  for (let s = 0; s < Math.min(multigraph.stateCount, STATES_LISTED); s++) {
    const isolated = isolatedSilos(multigraph, s);
    lines.push(`    state ${s}: ${isolated.length === 0 ? 'none' : isolated.join(', ')}`);
  }
  if (multigraph.stateCount > STATES_LISTED)
    lines.push(`    ... ${multigraph.stateCount - STATES_LISTED} more states`);
  return lines;
}

export function explainLines(plan: TopologyPlan): string[] {
  const lines: string[] = [];
  if (plan.multigraph !== null) {
    lines.push(...describeMultigraph('multigraph (paper):', plan.multigraph.multigraph, plan.fleet.names));
  } else if (plan.ring?.overlay.order !== undefined) {
    lines.push(`ring order: ${[...plan.ring.overlay.order, plan.ring.overlay.order[0] ?? 0].join(' -> ')}`);
  }
  if (plan.improved?.improved === true) {
    lines.push(...describeMultigraph('multigraph (improved):', plan.improved.multigraph, plan.fleet.names));
  }
  return lines;
}
