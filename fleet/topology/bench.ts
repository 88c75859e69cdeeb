// Planner benchmark: prints wall-clock figures, asserts nothing (timing belongs here, not in
// unit tests). Run with `node --import tsx fleet/topology/bench.ts` or `fadnet topology --bench`.
//   - Ebone (87 silos), femnist profile: read, connectivity, all overlays, the multigraph and
//     its 6,400-round simulation; then the improvement search on its own.
//   - A seeded 500-silo synthetic network: the same, with 1,000 rounds.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { percentile } from '../../common/index.ts';
import { connectivityFromNetwork } from './connectivity.ts';
import { readNetworkFile } from './files.ts';
import { fleetFromConnectivity, PROFILES } from './fleet.ts';
import type { Fleet } from './fleet.ts';
import { improveMultigraph } from './improve.ts';
import { paperNetworkPath } from './paper-networks.ts';
import { OVERLAY_NAMES, planTopology } from './planner.ts';
import type { TopologyPlan } from './planner.ts';
import { syntheticNetwork } from './synthetic.ts';

export interface BenchOptions {
  /** Ebone's GML (default: the copy in fleet/topology/networks). */
  readonly networkPath?: string;
  readonly repeats?: number;
}

const femnist = PROFILES.femnist;
const workload = {
  modelBits: femnist.modelBits,
  computeMs: femnist.computeMs,
  uplinkBps: 1e10,
  downlinkBps: 1e10,
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return percentile(sorted, 0.5);
}

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

function summary(plan: TopologyPlan): string {
  const f = (ms: number | undefined): string => (ms === undefined ? '-' : ms.toFixed(1));
  return (
    `STAR ${f(plan.star?.cycleTimeMs)}, MST ${f(plan.mst?.cycleTimeMs)}, delta-MBST ${f(plan.deltaMbst?.cycleTimeMs)}, ` +
    `RING ${f(plan.ring?.cycleTimeMs)}, multigraph ${f(plan.multigraph?.cycleTimeMs)}`
  );
}

export async function runBench(options: BenchOptions = {}): Promise<string[]> {
  const lines: string[] = [];
  const repeats = options.repeats ?? 5;
  const path = options.networkPath ?? paperNetworkPath('ebone');
  const planAll = (fleet: Fleet, rounds: number): TopologyPlan =>
    planTopology(fleet, { overlays: OVERLAY_NAMES, tMax: 5, rounds });

  const eboneRuns: number[] = [];
  let plan: TopologyPlan | undefined;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const network = await readNetworkFile(path);
    const fleet = fleetFromConnectivity(connectivityFromNetwork(network), workload);
    plan = planAll(fleet, femnist.rounds);
    eboneRuns.push(performance.now() - start);
  }
  lines.push(
    `ebone (${plan?.fleet.size} silos, femnist, ${femnist.rounds} rounds): plan + simulation ` +
      `${eboneRuns[0]?.toFixed(1)} ms first run, ${median(eboneRuns).toFixed(1)} ms median of ${repeats}`,
  );
  if (plan !== undefined) {
    lines.push(`  ${summary(plan)}`);
    const fleet = plan.fleet;
    const ring = plan.ring?.overlay;
    if (ring !== undefined) {
      const improve = timed(() => improveMultigraph(fleet, ring, { tMax: 5, rounds: femnist.rounds }));
      lines.push(
        `  improvement search: ${improve.ms.toFixed(1)} ms, multigraph ${improve.result.baseline.cycleTimeMs.toFixed(1)} -> ` +
          `${improve.result.cycleTimeMs.toFixed(1)} ms (${improve.result.evaluations} scorings)`,
      );
    }
  }

  const synthetic = timed(() => {
    const fleet = fleetFromConnectivity(
      connectivityFromNetwork(syntheticNetwork({ silos: 500, seed: 1 })),
      workload,
    );
    return planAll(fleet, 1000);
  });
  lines.push(
    `synthetic 500 silos (seed 1, femnist, 1000 rounds): plan + simulation ${synthetic.ms.toFixed(1)} ms`,
  );
  lines.push(`  ${summary(synthetic.result)}`);
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const line of await runBench()) console.log(line);
}
