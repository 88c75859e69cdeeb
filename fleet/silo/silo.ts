// A silo: each round it trains u local steps on its own data, publishes the local update, mixes
// it with the peer models the round decision names and keeps the result, then checkpoints.
// Everything it touches is injected: the local trainer, the peer exchange (MQTT in practice),
// the clock and the checkpoint store. Only weights and round numbers leave it; its frames and
// samples stay inside the trainer.

import type { Clock } from '../../nodes/runtime/clock.ts';
import type { WeightSet } from '../../models/src/weights/weight-set.ts';
import type { PeerExchange } from '../exchange/types.ts';
import { SiloConfigError } from './errors.ts';
import { mixModels } from './mixing.ts';
import type { MixRule, WeightedModel } from './mixing.ts';
import type { FleetPlan } from './plan.ts';
import { inNeighbours } from './plan.ts';
import { decideRound, rejoinRound, resolveWeights } from './round.ts';

/** The local-update side of a silo: its model and the optimiser that trains it on local data. */
export interface LocalTrainer {
  /** Runs `steps` optimisation steps on the silo's own data. */
  train(steps: number): Promise<void>;
  /** The current model, every tensor including batch-norm running statistics. */
  weights(): WeightSet;
  /** Replaces the model; validates everything before assigning anything. */
  load(weights: WeightSet): void;
  /** The whole training state (model, optimiser, step) as opaque bytes for a checkpoint. */
  state(): Uint8Array;
  /** Restores `state()` bytes; a bad state throws and leaves the model untouched. */
  restore(state: Uint8Array): void;
  /** Training loss of the last step, for the round report (telemetry); optional. */
  lastLoss?(): number | undefined;
}

export interface SiloCheckpoint {
  /** The round the silo runs next. */
  readonly round: number;
  readonly trainer: Uint8Array;
}

export interface CheckpointStore {
  /** The last checkpoint written, or undefined when there is none yet. */
  load(): Promise<SiloCheckpoint | undefined>;
  /** Writes atomically: a kill at any moment leaves the previous or the new checkpoint. */
  save(checkpoint: SiloCheckpoint): Promise<void>;
}

/** Where the plan of each round comes from when it can change while the fleet runs (a live plan). */
export interface PlanSource {
  /** The plan in force at `round`; called once as each round starts, rounds in order. */
  planFor(round: number): FleetPlan;
}

export interface SiloOptions {
  readonly id: string;
  /** The plan at start (rejoining) and, without `plans`, for every round. */
  readonly plan: FleetPlan;
  /** Plans per round; every plan must hold this silo, and the exchange should then hear every silo. */
  readonly plans?: PlanSource;
  readonly trainer: LocalTrainer;
  readonly exchange: PeerExchange;
  readonly clock: Clock;
  readonly checkpoints: CheckpointStore;
  /** Local steps per round (u); default 1. */
  readonly localSteps?: number;
  /** How long to wait for a peer's model before mixing without it (ms); default 30 s. */
  readonly peerTimeoutMs?: number;
  /** How long to wait at start for the peers' retained models that tell the fleet's round (ms); default 2 s. */
  readonly rejoinWaitMs?: number;
  readonly rule?: MixRule;
  readonly log?: (line: string) => void;
}

export interface RoundReport {
  readonly round: number;
  readonly isolated: boolean;
  /** Peers mixed in, with the round of the model used and its weight after renormalisation. */
  readonly mixed: readonly { readonly peer: string; readonly round: number; readonly weight: number }[];
  readonly selfWeight: number;
  /** Peers whose model did not arrive within the timeout. */
  readonly missing: readonly string[];
  readonly trainMs: number;
  readonly waitMs: number;
  readonly roundMs: number;
  /** Training loss of the round's last local step, when the trainer reports it. */
  readonly loss?: number;
  /** Model update bytes the silo's exchange sent and received so far, when the runner adds them. */
  readonly exchangeBytes?: { readonly sent: number; readonly received: number };
}

export class Silo {
  readonly id: string;
  readonly #plan: FleetPlan;
  readonly #plans: PlanSource | undefined;
  readonly #trainer: LocalTrainer;
  readonly #exchange: PeerExchange;
  readonly #clock: Clock;
  readonly #checkpoints: CheckpointStore;
  readonly #localSteps: number;
  readonly #peerTimeoutMs: number;
  readonly #rule: MixRule;
  readonly #log: (line: string) => void;
  #round: number;

  private constructor(options: SiloOptions, round: number) {
    this.id = options.id;
    this.#plan = options.plan;
    this.#plans = options.plans;
    this.#trainer = options.trainer;
    this.#exchange = options.exchange;
    this.#clock = options.clock;
    this.#checkpoints = options.checkpoints;
    this.#localSteps = options.localSteps ?? 1;
    this.#peerTimeoutMs = options.peerTimeoutMs ?? 30_000;
    this.#rule = options.rule ?? { kind: 'mean' };
    this.#log = options.log ?? ((line) => console.log(line));
    this.#round = round;
  }

  /**
   * Restores the last checkpoint when there is one, then joins at the fleet's current round:
   * the newest retained model of any in-neighbour (the peers it hears), if that is further on
   * than the checkpoint.
   */
  static async start(options: SiloOptions): Promise<Silo> {
    const peers = inNeighbours(options.plan, options.id);
    if (options.exchange.silo !== options.id) {
      throw new SiloConfigError(`silo ${options.id} was given the exchange of silo ${options.exchange.silo}`);
    }
    const steps = options.localSteps ?? 1;
    if (!Number.isInteger(steps) || steps < 1) {
      throw new SiloConfigError(`local steps per round must be a positive integer, got ${steps}`);
    }
    for (const key of ['peerTimeoutMs', 'rejoinWaitMs'] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
        throw new SiloConfigError(`${key} must be a number of milliseconds >= 0, got ${value}`);
      }
    }
    const log = options.log ?? ((line: string) => console.log(line));
    const saved = await options.checkpoints.load();
    if (saved !== undefined) options.trainer.restore(saved.trainer);
    const newest = await waitForPeers(options.exchange, peers, options.clock, options.rejoinWaitMs ?? 2_000);
    const round = rejoinRound(saved?.round ?? 0, newest);
    const fleetRound = rejoinRound(0, newest);
    log(
      `silo ${options.id}: ${saved === undefined ? 'no checkpoint' : `checkpoint at round ${saved.round}`}, ` +
        `fleet at round ${newest.some((r) => r !== undefined) ? fleetRound : '(no peer model yet)'}; starting at round ${round}`,
    );
    return new Silo(options, round);
  }

  /** The round the silo runs next. */
  get round(): number {
    return this.#round;
  }

  /** One round: train, publish, gather, mix, checkpoint. */
  async runRound(signal?: AbortSignal): Promise<RoundReport> {
    const k = this.#round;
    const decision = decideRound(this.#plans?.planFor(k) ?? this.#plan, this.id, k);
    const t0 = this.#clock.now();
    await this.#trainer.train(this.#localSteps);
    const local = this.#trainer.weights();
    const t1 = this.#clock.now();
    // Published before waiting, so peers waiting on this round's model are not held up by us.
    const published = this.#exchange.publishModel(k, local).then(
      () => undefined,
      (error: unknown) => error,
    );
    const arrivals = await Promise.all(
      decision.peers.map((p) => this.#exchange.modelOf(p.peer, p.round, this.#peerTimeoutMs, signal)),
    );
    const t2 = this.#clock.now();
    const failed = await published;
    if (failed !== undefined) {
      // The broker or connection failed; peers will time out on this round's model and mix
      // without it, which the fleet tolerates. The next round publishes again.
      this.#log(
        `silo ${this.id} round ${k}: publishing the local update failed: ${failed instanceof Error ? failed.message : String(failed)}`,
      );
    }
    signal?.throwIfAborted();
    const byPeer = new Map<string, WeightSet>();
    decision.peers.forEach((p, i) => {
      const update = arrivals[i];
      if (update !== undefined) byPeer.set(p.peer, update.weights);
    });
    const resolved = resolveWeights(decision, new Set(byPeer.keys()));
    if (resolved.missing.length > 0) {
      this.#log(
        `silo ${this.id} round ${k}: no model within ${this.#peerTimeoutMs} ms from ` +
          `${resolved.missing.map((p) => `${p.peer} (round ${p.round})`).join(', ')}; ` +
          `mixing without, weights scaled to sum to 1 (own ${resolved.selfWeight.toFixed(3)})`,
      );
    }
    if (resolved.peers.length > 0) {
      const models: WeightedModel[] = [
        { weights: local, weight: resolved.selfWeight },
        ...resolved.peers.map((p) => ({ weights: byPeer.get(p.peer)!, weight: p.weight })),
      ];
      this.#trainer.load(mixModels(models, this.#rule));
    }
    this.#round = k + 1;
    await this.#checkpoints.save({ round: this.#round, trainer: this.#trainer.state() });
    const t3 = this.#clock.now();
    const loss = this.#trainer.lastLoss?.();
    return {
      round: k,
      isolated: decision.isolated,
      mixed: resolved.peers.map((p) => ({ peer: p.peer, round: p.round, weight: p.weight })),
      selfWeight: resolved.selfWeight,
      missing: resolved.missing.map((p) => p.peer),
      trainMs: t1 - t0,
      waitMs: t2 - t1,
      roundMs: t3 - t0,
      ...(loss === undefined ? {} : { loss }),
    };
  }

  /** Runs rounds until `untilRound` (exclusive) or the signal aborts. */
  async run(
    untilRound: number,
    signal?: AbortSignal,
    onRound?: (report: RoundReport) => void,
  ): Promise<void> {
    while (this.#round < untilRound && signal?.aborted !== true) {
      const report = await this.runRound(signal);
      onRound?.(report);
    }
  }
}

/** Waits until every peer's newest model is known or `waitMs` passes; the newest rounds known then. */
async function waitForPeers(
  exchange: PeerExchange,
  peers: readonly string[],
  clock: Clock,
  waitMs: number,
): Promise<(number | undefined)[]> {
  const newest = (): (number | undefined)[] => peers.map((p) => exchange.newest(p)?.round);
  const deadline = clock.now() + waitMs;
  while (newest().some((r) => r === undefined) && clock.now() < deadline) {
    await new Promise<void>((resolve) => clock.after(Math.min(50, deadline - clock.now()), resolve));
  }
  return newest();
}
