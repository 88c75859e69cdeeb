// The fleet a simulation runs: which overlay the N silos follow (star, ring, mst or the
// multigraph on the ring), as a plan file the silo processes read, and how long each link of
// that overlay takes to carry a model. Pure: the network is parsed by the caller.
//
// The link delay emulated between u and v is the planner's d(u, v) (multigraph.md, 2) without
// its compute term Tc, since the silos really train: latency + max(out(u) * upload,
// in(v) * download, M / bandwidth), with the overlay's degrees (weak arcs count, as they carry
// models in the background), times `delayScale`. The scale exists because a training step here
// takes about a second where the profiles' Tc is a few milliseconds of a GPU; scaling every
// link by the same factor keeps the ratio of communication to computation of the profile.

import type { Connectivity, Fleet, GmlNetwork, ProfileName, TopologyPlan } from '../topology/index.ts';
import {
  connectivityFromNetwork,
  DEFAULT_ACCESS_BPS,
  DEFAULT_T_MAX,
  fleetFromConnectivity,
  linkDelay,
  planTopology,
  PROFILES,
  syntheticNetwork,
} from '../topology/index.ts';
import { PLAN_FORMAT, planFileFromTopology } from '../silo/index.ts';
import type { PlanFile } from '../silo/index.ts';
import { FleetSimConfigError } from './errors.ts';

export const SIM_TOPOLOGIES = ['star', 'ring', 'mst', 'multigraph'] as const;
export type SimTopology = (typeof SIM_TOPOLOGIES)[number];

export interface ScenarioOptions {
  readonly silos: number;
  readonly topology: SimTopology;
  /** The underlay the silos sit on (its first `silos` nodes); absent: a seeded synthetic one, no delays. */
  readonly network?: GmlNetwork;
  readonly profile: ProfileName;
  /** Multiplies every emulated link delay (see above); 0 turns the emulation off. */
  readonly delayScale: number;
  readonly tMax?: number;
}

export interface Scenario {
  /** Silo ids, plan index i is ids[i]. */
  readonly ids: readonly string[];
  readonly plan: PlanFile;
  /** Emulated delay of each overlay arc, keyed `from>to` (silo ids), ms; empty without a network. */
  readonly linkDelayMs: ReadonlyMap<string, number>;
  /** The planner's cycle time of this overlay under the profile (ms, unscaled). */
  readonly plannedCycleMs: number;
}

export const linkKey = (from: string, to: string): string => `${from}>${to}`;

/** The connectivity of the first `n` silos of a network (shortest paths over the whole underlay). */
function firstSilos(c: Connectivity, n: number): Connectivity {
  const latencyMs = new Float64Array(n * n);
  const bandwidth = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      latencyMs[i * n + j] = c.latencyMs[i * c.size + j] ?? 0;
      bandwidth[i * n + j] = c.bandwidth[i * c.size + j] ?? 0;
    }
  }
  return { size: n, names: c.names.slice(0, n), latencyMs, bandwidth };
}

function fleetOf(options: ScenarioOptions): Fleet {
  const network = options.network ?? syntheticNetwork({ silos: options.silos, seed: 1 });
  if (network.nodes.length < options.silos) {
    throw new FleetSimConfigError(
      `the network has ${network.nodes.length} silos, fewer than the ${options.silos} asked for`,
    );
  }
  const profile = PROFILES[options.profile];
  return fleetFromConnectivity(firstSilos(connectivityFromNetwork(network), options.silos), {
    modelBits: profile.modelBits,
    computeMs: profile.computeMs,
    uplinkBps: DEFAULT_ACCESS_BPS,
    downlinkBps: DEFAULT_ACCESS_BPS,
  });
}

function planFileOf(plan: TopologyPlan, topology: SimTopology, ids: readonly string[]): PlanFile {
  if (topology === 'multigraph') return planFileFromTopology(plan, ids);
  const overlay = plan[topology]?.overlay;
  if (overlay === undefined) throw new Error(`the planner returned no ${topology} overlay`);
  return {
    format: PLAN_FORMAT,
    silos: [...ids],
    kind: overlay.kind,
    arcs: overlay.arcs.map((a) => ({ from: ids[a.from]!, to: ids[a.to]! })),
  };
}

export function buildScenario(options: ScenarioOptions): Scenario {
  if (!(Number.isInteger(options.silos) && options.silos >= 2)) {
    throw new FleetSimConfigError(`a fleet needs at least 2 silos, got ${options.silos}`);
  }
  if (!(Number.isFinite(options.delayScale) && options.delayScale >= 0)) {
    throw new FleetSimConfigError(`the delay scale must be a number >= 0, got ${options.delayScale}`);
  }
  const fleet = fleetOf(options);
  const ids = Array.from({ length: options.silos }, (_, i) => `s${i}`);
  const plan = planTopology(fleet, {
    overlays: [options.topology],
    tMax: options.tMax ?? DEFAULT_T_MAX,
    rounds: PROFILES[options.profile].rounds,
  });
  const planFile = planFileOf(plan, options.topology, ids);
  const plannedCycleMs =
    options.topology === 'multigraph' ? plan.multigraph!.cycleTimeMs : plan[options.topology]!.cycleTimeMs;
  const linkDelayMs = new Map<string, number>();
  if (options.network !== undefined && options.delayScale > 0) {
    const out = new Map<string, number>();
    const inward = new Map<string, number>();
    for (const a of planFile.arcs) {
      out.set(a.from, (out.get(a.from) ?? 0) + 1);
      inward.set(a.to, (inward.get(a.to) ?? 0) + 1);
    }
    for (const a of planFile.arcs) {
      const u = ids.indexOf(a.from);
      const v = ids.indexOf(a.to);
      const d = linkDelay(fleet, u, v, out.get(a.from), inward.get(a.to)) - (fleet.computeMs[u] ?? 0);
      linkDelayMs.set(linkKey(a.from, a.to), d * options.delayScale);
    }
  }
  return { ids, plan: planFile, linkDelayMs, plannedCycleMs };
}
