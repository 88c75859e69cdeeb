// What a silo does in round k (multigraph.md, 7), in ids instead of plan indices: which peer
// models it mixes, of which round, with which weight, and whether it waits at all. Pure.

import { siloRounds } from '../topology/index.ts';
import type { FleetPlan } from './plan.ts';
import { siloIndex } from './plan.ts';

/** One model the silo mixes this round. */
export interface PeerModel {
  readonly peer: string;
  /**
   * The round of the peer's local update to use: k over an arc that was strong last round too
   * (the silo waits for it), k - staleness over an arc that turned strong this round (the model
   * sent when the arc turned weak, which travelled in the background).
   */
  readonly round: number;
  readonly weight: number;
  /** True when this is the peer's model of this very round, i.e. one the silo waits for. */
  readonly fresh: boolean;
}

export interface RoundDecision {
  readonly round: number;
  /** No strong in-arc: keep the local update, wait for nobody. */
  readonly isolated: boolean;
  readonly selfWeight: number;
  readonly peers: readonly PeerModel[];
  /** Weak in-neighbours: they contribute nothing this round. */
  readonly weak: readonly string[];
}

export function decideRound(plan: FleetPlan, silo: string, round: number): RoundDecision {
  const index = siloIndex(plan, silo);
  const mine = siloRounds(plan.multigraph, round)[index];
  if (mine === undefined) throw new RangeError(`silo index ${index} is outside the plan`);
  const id = (i: number): string => {
    const name = plan.ids[i];
    if (name === undefined) throw new RangeError(`silo index ${i} is outside the plan`);
    return name;
  };
  return {
    round,
    isolated: mine.isolated,
    selfWeight: mine.selfWeight,
    peers: mine.strong.map((s) => ({
      peer: id(s.silo),
      round: round - s.staleness,
      weight: s.weight,
      fresh: s.staleness === 0,
    })),
    weak: mine.weak.map(id),
  };
}

export interface ResolvedWeights {
  readonly selfWeight: number;
  readonly peers: readonly PeerModel[];
  /** Peers whose model did not arrive in time; their weight went to the others. */
  readonly missing: readonly PeerModel[];
}

/**
 * Weights over the models that arrived. A peer that timed out is left out and the remaining
 * weights (own model included) are scaled to sum to 1 again: the row stays stochastic, so the
 * fleet's average is not pulled towards zero, and each arrived model keeps its planned share
 * relative to the others. With nothing arrived the silo keeps its own model, as if isolated.
 */
export function resolveWeights(decision: RoundDecision, arrived: ReadonlySet<string>): ResolvedWeights {
  const peers = decision.peers.filter((p) => arrived.has(p.peer));
  const missing = decision.peers.filter((p) => !arrived.has(p.peer));
  if (missing.length === 0) return { selfWeight: decision.selfWeight, peers, missing };
  const total = decision.selfWeight + peers.reduce((sum, p) => sum + p.weight, 0);
  return {
    selfWeight: decision.selfWeight / total,
    peers: peers.map((p) => ({ ...p, weight: p.weight / total })),
    missing,
  };
}

/**
 * The round a silo (re)joins at: its own next round, or the newest round any peer has published
 * when the fleet is further on. A peer's newest model of round r means it is mixing in round r,
 * so r is the round the fleet is in.
 */
export function rejoinRound(ownNext: number, peerNewest: readonly (number | undefined)[]): number {
  let round = ownNext;
  for (const r of peerNewest) if (r !== undefined && r > round) round = r;
  return round;
}
