// A silo as a process: what `fadnet silo` and the silo node both run. It lowers its own CPU
// priority first, trains with one replica (no worker threads), connects to the broker with the
// silo's key, and runs rounds until told to stop. The data set is given by the caller, so this
// file never knows whether frames come from recordings or the simulator.

import { setPriority } from 'node:os';
import path from 'node:path';

import { brokerFor, connect, readSiloKeyFile, readTrustedKeysFile } from '../exchange/index.ts';
import type { EmbeddedBrokerOptions, Encoding, MqttExchange } from '../exchange/index.ts';
import { connectLivePlan, proposalId } from '../live-plan/index.ts';
import type { DriftThreshold, MqttLivePlan } from '../live-plan/index.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import type { TrainingDataset } from '../../models/src/train/dataset.ts';
import { Trainer } from '../../models/src/train/trainer.ts';
import { systemClock } from '../../nodes/runtime/clock.ts';
import { FileCheckpointStore, TrainerLocalUpdate } from './adapters.ts';
import { SiloConfigError } from './errors.ts';
import type { MixRule } from './mixing.ts';
import { inNeighbours } from './plan.ts';
import type { FleetPlan } from './plan.ts';
import { Silo } from './silo.ts';
import type { PlanSource, RoundReport } from './silo.ts';

/** A plan the fleet re-computes from its own link measurements (fleet/live-plan). */
export interface LivePlanConfig {
  /** Time between probes of every peer (ms). */
  readonly probeEveryMs: number;
  /** Rounds between proposing a plan and its activation. */
  readonly marginRounds: number;
  readonly drift?: DriftThreshold;
}

export interface SiloRunConfig {
  readonly fleet: string;
  readonly id: string;
  /** The fleet's broker; undefined: an embedded one on `embeddedBroker` (or the one already there). */
  readonly brokerUrl: string | undefined;
  readonly embeddedBroker?: EmbeddedBrokerOptions;
  /** Given: the plan follows the fleet's measurements, starting from `plan`. */
  readonly livePlan?: LivePlanConfig;
  readonly plan: FleetPlan;
  readonly dataset: TrainingDataset;
  /** Holds `<id>.key`, `trusted.json` and `<id>.checkpoint.safetensors` unless given apart. */
  readonly dir: string;
  readonly keyFile?: string;
  readonly trustedFile?: string;
  readonly checkpointFile?: string;
  readonly localSteps: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly seed: number;
  readonly peerTimeoutMs: number;
  readonly rule: MixRule;
  readonly encoding: Encoding;
  /** Run until this round (exclusive); undefined: until the signal aborts. */
  readonly untilRound?: number;
  /** Niceness to set on this process (0..19); undefined leaves it. */
  readonly nice?: number;
}

export function siloFiles(config: SiloRunConfig): { key: string; trusted: string; checkpoint: string } {
  return {
    key: config.keyFile ?? path.join(config.dir, `${config.id}.key`),
    trusted: config.trustedFile ?? path.join(config.dir, 'trusted.json'),
    checkpoint: config.checkpointFile ?? path.join(config.dir, `${config.id}.checkpoint.safetensors`),
  };
}

/** Lowers this process's priority so the steering node, at normal priority, always runs first. */
export function lowerPriority(nice: number): void {
  if (!(Number.isInteger(nice) && nice >= 0 && nice <= 19)) {
    throw new SiloConfigError(`nice must be a whole number from 0 to 19, got ${nice}`);
  }
  setPriority(0, nice);
}

export async function runSilo(
  config: SiloRunConfig,
  signal: AbortSignal,
  log: (line: string) => void,
  onRound?: (report: RoundReport) => void,
): Promise<void> {
  if (config.nice !== undefined) lowerPriority(config.nice);
  const files = siloFiles(config);
  const [keys, trusted] = await Promise.all([readSiloKeyFile(files.key), readTrustedKeysFile(files.trusted)]);
  const backend = await initTfjs({ log: () => {} });
  const untilRound = config.untilRound ?? Number.MAX_SAFE_INTEGER;
  const trainer = await Trainer.create({
    config: {
      seed: config.seed,
      batchSize: config.batchSize,
      // The learning-rate horizon: the planned rounds, or a long one for a silo that runs until stopped.
      steps: Math.min(untilRound, 1_000_000) * config.localSteps,
      lr: { base: config.lr, warmupSteps: 10, floor: config.lr / 100 },
    },
    dataset: config.dataset,
    replicas: 1,
  });
  let broker;
  let exchange: MqttExchange;
  let live: MqttLivePlan | undefined;
  try {
    broker = await brokerFor(config.brokerUrl, config.embeddedBroker, log);
    exchange = await connect({
      url: broker.url,
      fleet: config.fleet,
      silo: config.id,
      keys,
      trusted,
      encoding: config.encoding,
      peers: inNeighbours(config.plan, config.id),
      log,
    });
  } catch (error) {
    await broker?.close();
    await trainer.dispose();
    throw error;
  }
  try {
    if (config.livePlan !== undefined) {
      live = await connectLivePlan({
        url: broker.url,
        fleet: config.fleet,
        silo: config.id,
        keys,
        trusted,
        initial: config.plan,
        clock: systemClock,
        probeEveryMs: config.livePlan.probeEveryMs,
        marginRounds: config.livePlan.marginRounds,
        ...(config.livePlan.drift === undefined ? {} : { drift: config.livePlan.drift }),
        log,
      });
    }
    log(
      `silo ${config.id} of fleet ${config.fleet}: ${config.dataset.size} samples, training on ${backend.name} ` +
        `(1 replica, nice ${config.nice ?? 'unchanged'}), ${config.localSteps} local step(s) of batch ${config.batchSize} per round, ` +
        `mixing by ${config.rule.kind}, broker ${broker.url}${broker.hosted ? ' (embedded, hosted here)' : ''}, ` +
        `plan ${live === undefined ? 'fixed' : 'live (from measured links)'}`,
    );
    const silo = await Silo.start({
      id: config.id,
      plan: config.plan,
      ...(live === undefined ? {} : { plans: followingPeers(live, exchange, config.id, log) }),
      trainer: new TrainerLocalUpdate(trainer),
      exchange,
      clock: systemClock,
      checkpoints: new FileCheckpointStore(files.checkpoint, { silo: config.id, fleet: config.fleet }),
      localSteps: config.localSteps,
      peerTimeoutMs: config.peerTimeoutMs,
      rule: config.rule,
      log,
    });
    try {
      await silo.run(
        untilRound,
        signal,
        onRound === undefined
          ? undefined
          : (report) => {
              const { bytesSent, bytesReceived } = exchange.stats();
              onRound({ ...report, exchangeBytes: { sent: bytesSent, received: bytesReceived } });
            },
      );
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  } finally {
    await live?.close();
    await exchange.close();
    await trainer.dispose();
    await broker.close();
  }
}

/**
 * The live plan as the silo's plan source, keeping the exchange subscribed to the in-neighbours
 * of both the plan in force and the newest one agreed: a proposal takes effect some rounds after
 * it is made, so the new peers' models are flowing before the first round that mixes them.
 */
export function followingPeers(
  live: Pick<MqttLivePlan, 'planFor' | 'newestPlan' | 'proposalAt'>,
  exchange: Pick<MqttExchange, 'peers' | 'addPeers'>,
  id: string,
  log: (line: string) => void,
): PlanSource {
  let inForce = 'initial';
  return {
    planFor: (round) => {
      const plan = live.planFor(round);
      const proposal = live.proposalAt(round);
      const name =
        proposal === undefined ? 'initial' : `epoch ${proposal.epoch} (${proposalId(proposal).slice(0, 12)})`;
      if (name !== inForce) {
        // One line per switch: the rounds at which every silo switched can be compared from logs.
        log(`silo ${id} round ${round}: plan ${name} in force`);
        inForce = name;
      }
      const wanted = [...inNeighbours(plan, id), ...inNeighbours(live.newestPlan(), id)];
      const added = [...new Set(wanted.filter((p) => !(exchange.peers ?? wanted).includes(p)))];
      if (added.length > 0) {
        log(`silo ${id} round ${round}: now also receiving models of ${added.join(', ')}`);
        exchange.addPeers(added).catch((error: unknown) => {
          log(`silo ${id}: could not subscribe to ${added.join(', ')}: ${(error as Error).message}`);
        });
      }
      return plan;
    },
  };
}
/** One line per round for logs. */
export function roundLine(id: string, r: RoundReport): string {
  const mixed =
    r.mixed.length === 0
      ? 'isolated, kept its own model'
      : `mixed ${r.mixed.map((m) => `${m.peer}@${m.round} x${m.weight.toFixed(3)}`).join(', ')} (own x${r.selfWeight.toFixed(3)})`;
  const missing = r.missing.length > 0 ? `; timed out: ${r.missing.join(', ')}` : '';
  return `silo ${id} round ${r.round}: ${mixed}${missing}; train ${r.trainMs.toFixed(0)} ms, wait ${r.waitMs.toFixed(0)} ms, round ${r.roundMs.toFixed(0)} ms`;
}
