// Plan agreement without a coordinator. The plan is a pure function of a measurement set (one
// signed, quantised row per silo, in silo order) and of options every silo shares, so silos that
// hold the same set compute the same plan; a proposal carries the set itself, so they do. Which
// proposal is in force at round k is again a pure function of the proposals a silo holds: the
// one with the highest activation round <= k, the lowest proposal id among equals. Pure.

import type { Workload } from '../topology/fleet.ts';
import { PROFILES, DEFAULT_T_MAX } from '../topology/fleet.ts';
import { fleetFromMeasurements } from '../topology/measurements.ts';
import type { Measurements } from '../topology/measurements.ts';
import { planTopology } from '../topology/planner.ts';
import { parsePlan, planFileFromTopology } from '../silo/plan.ts';
import type { FleetPlan, PlanFile } from '../silo/plan.ts';
import type { LinkMeasurement } from './measure.ts';
import type { MeasurementRow, PlanProposal } from './messages.ts';
import { proposalId, sha256Hex } from './messages.ts';

/** What every silo of a fleet must agree on besides the measurements (same defaults everywhere). */
export interface PlanningOptions {
  /** The fleet's silos; a set must hold a row from each. */
  readonly ids: readonly string[];
  readonly workload: Workload;
  readonly tMax: number;
  /** Rounds the planner simulates to score a multigraph. */
  readonly rounds: number;
}

export function planningOptions(
  ids: readonly string[],
  o: Partial<Omit<PlanningOptions, 'ids'>> = {},
): PlanningOptions {
  const profile = PROFILES['fadnet-gazebo'];
  return {
    ids: [...ids].sort(),
    workload: o.workload ?? {
      modelBits: profile.modelBits,
      computeMs: profile.computeMs,
      uplinkBps: 1e10,
      downlinkBps: 1e10,
    },
    tMax: o.tMax ?? DEFAULT_T_MAX,
    rounds: o.rounds ?? 200,
  };
}

export interface ComputedPlan {
  readonly file: PlanFile;
  readonly plan: FleetPlan;
  /** sha256 of the plan file's JSON: what a proposal names and every receiver checks. */
  readonly hash: string;
}

export class PlanningError extends Error {
  override readonly name = 'PlanningError';
}

/**
 * The planner's input from a measurement set: latency is half the round trip, bandwidth the
 * measured throughput; pairs measured in neither direction make the set unusable.
 */
export function measurementsOf(rows: readonly MeasurementRow[], options: PlanningOptions): Measurements {
  const bySilo = new Map(rows.map((r) => [r.silo, r]));
  const missing = options.ids.filter((s) => !bySilo.has(s));
  if (missing.length > 0)
    throw new PlanningError(`the measurement set has no row from ${missing.join(', ')}`);
  const extra = rows.filter((r) => !options.ids.includes(r.silo)).map((r) => r.silo);
  if (extra.length > 0)
    throw new PlanningError(`the measurement set has rows from non-members ${extra.join(', ')}`);
  return {
    modelBits: options.workload.modelBits,
    silos: options.ids.map((name) => ({ name })),
    links: options.ids.flatMap((from) =>
      bySilo
        .get(from)!
        .links.filter((l) => options.ids.includes(l.to))
        .map((l) => ({ from, to: l.to, latencyMs: l.rttMs / 2, bandwidthBps: l.bps })),
    ),
  };
}

/** The plan of a measurement set: the paper's multigraph over the planner's ring. */
export function planFromRows(rows: readonly MeasurementRow[], options: PlanningOptions): ComputedPlan {
  let file: PlanFile;
  try {
    const fleet = fleetFromMeasurements(measurementsOf(rows, options), options.workload);
    const topology = planTopology(fleet, {
      overlays: ['multigraph'],
      tMax: options.tMax,
      rounds: options.rounds,
    });
    file = planFileFromTopology(topology);
  } catch (error) {
    if (error instanceof PlanningError) throw error;
    throw new PlanningError(`no plan from the measurement set: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { file, plan: parsePlan(file, 'live plan'), hash: sha256Hex(JSON.stringify(file)) };
}

export interface DriftThreshold {
  /** Relative change of a link's RTT from the one in force that asks for a new plan (0.25: 25%). */
  readonly relative: number;
  /** Changes smaller than this (ms) never do: jitter on a fast link is not drift. */
  readonly minMs: number;
}

export const DEFAULT_DRIFT: DriftThreshold = { relative: 0.25, minMs: 20 };

/**
 * Why `current` differs enough from `baseline` (the silo's links in the plan in force) to ask
 * for a new plan, or undefined. No baseline, or a peer the baseline lacks, is drift: the plan in
 * force was not made from this silo's measurements.
 */
export function drift(
  current: readonly LinkMeasurement[],
  baseline: readonly LinkMeasurement[] | undefined,
  threshold: DriftThreshold = DEFAULT_DRIFT,
): string | undefined {
  if (baseline === undefined) return 'no measurements in the plan in force';
  const before = new Map(baseline.map((l) => [l.to, l.rttMs]));
  for (const l of current) {
    const b = before.get(l.to);
    if (b === undefined) return `${l.to}: not measured in the plan in force`;
    const change = Math.abs(l.rttMs - b);
    if (change > threshold.minMs && change > threshold.relative * b) {
      return `${l.to}: rtt ${l.rttMs} ms, ${b} ms in the plan in force`;
    }
  }
  return undefined;
}

export interface ScheduledPlan {
  readonly proposal: PlanProposal;
  readonly id: string;
  readonly computed: ComputedPlan;
}

/** Orders proposals: later activation first, then the lower id. */
const before = (a: ScheduledPlan, b: ScheduledPlan): boolean =>
  a.proposal.activationRound > b.proposal.activationRound ||
  (a.proposal.activationRound === b.proposal.activationRound && a.id < b.id);

/** The proposals a silo holds and the plan in force at each round. */
export class PlanSchedule {
  readonly #initial: FleetPlan;
  readonly #entries = new Map<string, ScheduledPlan>();

  constructor(initial: FleetPlan) {
    this.#initial = initial;
  }

  /** Adds a checked proposal and its computed plan; false when it was already held. */
  add(proposal: PlanProposal, computed: ComputedPlan): boolean {
    const id = proposalId(proposal);
    if (this.#entries.has(id)) return false;
    this.#entries.set(id, { proposal, id, computed });
    return true;
  }

  /** The proposal in force at `round`, or undefined while the initial plan is. */
  entryAt(round: number): ScheduledPlan | undefined {
    let best: ScheduledPlan | undefined;
    for (const e of this.#entries.values()) {
      if (e.proposal.activationRound <= round && (best === undefined || before(e, best))) best = e;
    }
    return best;
  }

  planAt(round: number): FleetPlan {
    return this.entryAt(round)?.computed.plan ?? this.#initial;
  }

  /** The proposal that will be in force last: a pending one if any, else the one in force. */
  newest(): ScheduledPlan | undefined {
    let best: ScheduledPlan | undefined;
    for (const e of this.#entries.values()) if (best === undefined || before(e, best)) best = e;
    return best;
  }

  /** Drops proposals that can never be in force again from `round` on (memory stays bounded). */
  prune(round: number): void {
    const current = this.entryAt(round);
    if (current === undefined) return;
    for (const [id, e] of this.#entries) {
      if (e.proposal.activationRound <= round && e !== current) this.#entries.delete(id);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
