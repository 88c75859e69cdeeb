// A fleet on one machine: N real silo processes (`fadnet silo`), each training on its own
// simulator world, exchanging models through a broker (the embedded one, or the one given),
// each behind a link proxy that delays its peers' models by the link's delay. The observer
// averages each round's models and evaluates the average on the held-out world every few
// rounds. With compareCll, one centralised model then trains on the union of the silos' data.
// What is simulated comes in as sources: this folder never imports the simulator.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { ensureDir } from '../../common/index.ts';
import type { InputSpec } from '../../models/src/input-spec.ts';
import type { TrainingDataset } from '../../models/src/train/dataset.ts';
import { Trainer } from '../../models/src/train/trainer.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import type { WeightSet } from '../../models/src/weights/weight-set.ts';
import {
  addTrustedKey,
  publicKeyPem,
  readSiloKeyFile,
  readTrustedKeysFile,
  startEmbeddedBroker,
  writeSiloKeys,
} from '../exchange/index.ts';
import type { EmbeddedBroker, Encoding } from '../exchange/index.ts';
import type { GmlNetwork, ProfileName } from '../topology/index.ts';
import { FleetSimAbortedError, FleetSimConfigError, SiloProcessError } from './errors.ts';
import { startLinkProxy, type LinkProxy } from './link-proxy.ts';
import { FleetObserver } from './observer.ts';
import type { CurvePoint } from './plot.ts';
import { buildScenario, linkKey, type Scenario, type SimTopology } from './scenario.ts';

export interface FleetSimSources {
  /** Worlds silos train on, silo i on trainingWorlds[i mod length]. */
  readonly trainingWorlds: readonly string[];
  /** The world the average model is evaluated on; no silo trains on it. */
  readonly heldOutWorld: string;
  /**
   * Expert-driven samples of a world, as `fadnet silo --sim-world` builds them; with
   * `randomiseAppearance` N > 0, re-dressed with a random look every N samples (0: as it looks).
   */
  readonly dataset: (
    world: string,
    samples: number,
    seed: number,
    options: { readonly randomiseAppearance: number },
  ) => Promise<TrainingDataset>;
  /** The command that runs `fadnet silo ARGS` (argv before ARGS). */
  readonly siloCommand: readonly string[];
  /** Environment that makes a silo process's data randomise its look every N samples; absent: not supported. */
  readonly siloEnv?: (randomiseAppearance: number) => Readonly<Record<string, string>>;
}

export interface FleetSimOptions {
  readonly silos: number;
  readonly topology: SimTopology;
  readonly rounds: number;
  readonly network?: { readonly name: string; readonly graph: GmlNetwork };
  readonly profile: ProfileName;
  readonly delayScale: number;
  readonly encoding: Encoding;
  /** An external broker; absent: the embedded one. */
  readonly brokerUrl?: string;
  readonly compareCll: boolean;
  /** Samples each silo draws from its world (mirrored copies double them). */
  readonly samples: number;
  /** Each silo's world gets a new random look every this many samples; 0 or absent: its own look. */
  readonly randomiseAppearance?: number;
  readonly evalSamples: number;
  readonly batch: number;
  readonly localSteps: number;
  readonly lr: number;
  readonly seed: number;
  /** Evaluate the average model every this many rounds (and after the last). */
  readonly evalEvery: number;
  readonly peerTimeoutMs: number;
  /** Keys, plan, checkpoints and each silo's log. */
  readonly stateDir: string;
  readonly log: (line: string) => void;
  /** After every observed round. */
  readonly onRound?: (round: number, rmse: number | undefined) => void;
}

export interface FleetSimResult {
  readonly silos: number;
  readonly topology: SimTopology;
  readonly encoding: Encoding;
  readonly rounds: number;
  readonly final_rmse: number;
  readonly cll_rmse?: number;
  /** From every silo online to the last model of the last round. */
  readonly wall_s: number;
  readonly wall_per_round_s: number;
  /** Bytes one model update takes on the wire (all chunks, headers and signature). */
  readonly bytes_per_exchange: number;
  /** Model chunk bytes each silo sent to the broker, counted at its link. */
  readonly bytes_sent_per_silo: readonly number[];
  readonly eval_world: string;
  readonly eval_samples: number;
  readonly network: string | null;
  readonly delay_scale: number;
  readonly planned_cycle_ms: number;
  readonly curve: readonly CurvePoint[];
  /** The silos' average model after the last round. */
  readonly average: WeightSet;
}

const FLEET = 'sim';

/** RMSE of `weights` on a data set, through the trainer's own eval-mode loop. */
export async function rmseOf(weights: WeightSet, dataset: TrainingDataset): Promise<number> {
  const trainer = await Trainer.create({
    config: { steps: 1, batchSize: Math.min(16, dataset.size) },
    dataset,
    weights,
    replicas: 1,
  });
  try {
    return await trainer.evaluate(dataset, 16);
  } finally {
    await trainer.dispose();
  }
}

/** The union of data sets, index by index; all must have been prepared with one input spec. */
class UnionDataset implements TrainingDataset {
  readonly size: number;
  readonly inputSpec: InputSpec;
  readonly #parts: readonly TrainingDataset[];

  constructor(parts: readonly TrainingDataset[]) {
    const first = parts[0];
    if (first === undefined) throw new RangeError('a union of data sets needs at least one');
    const other = parts.findIndex((p) => !isDeepStrictEqual(p.inputSpec, first.inputSpec));
    if (other >= 0)
      throw new RangeError(
        `data set ${other} was prepared with another input spec than data set 0: ${JSON.stringify(parts[other]!.inputSpec)} against ${JSON.stringify(first.inputSpec)}`,
      );
    this.#parts = parts;
    this.inputSpec = first.inputSpec;
    this.size = parts.reduce((n, p) => n + p.size, 0);
  }

  async read(indices: readonly number[], x: Float32Array, y: Float32Array): Promise<void> {
    const frame = x.length / y.length;
    for (let i = 0; i < indices.length; i++) {
      let idx = indices[i]!;
      let part = 0;
      while (idx >= this.#parts[part]!.size) idx -= this.#parts[part++]!.size;
      const one = new Float32Array(frame);
      const label = new Float32Array(1);
      await this.#parts[part]!.read([idx], one, label);
      x.set(one, i * frame);
      y[i] = label[0]!;
    }
  }
}

interface SiloProcess {
  readonly id: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  tail: string;
}

function worldOf(sources: FleetSimSources, i: number): { world: string; seed: number } {
  const n = sources.trainingWorlds.length;
  return { world: sources.trainingWorlds[i % n]!, seed: Math.floor(i / n) };
}

function check(o: FleetSimOptions, sources: FleetSimSources): void {
  const ints: [string, number, number][] = [
    ['rounds', o.rounds, 1],
    ['samples', o.samples, 1],
    ['eval samples', o.evalSamples, 1],
    ['batch', o.batch, 1],
    ['local steps', o.localSteps, 1],
    ['eval every', o.evalEvery, 1],
  ];
  for (const [what, v, min] of ints) {
    if (!(Number.isInteger(v) && v >= min))
      throw new FleetSimConfigError(`${what} must be an integer >= ${min}, got ${v}`);
  }
  if (o.batch > 2 * o.samples) {
    throw new FleetSimConfigError(
      `batch ${o.batch} is more than a silo's ${2 * o.samples} samples (mirrored)`,
    );
  }
  const every = o.randomiseAppearance ?? 0;
  if (!(Number.isInteger(every) && every >= 0))
    throw new FleetSimConfigError(`randomise appearance must be an integer >= 0, got ${every}`);
  if (every > 0 && sources.siloEnv === undefined)
    throw new FleetSimConfigError("these silos cannot randomise their worlds' appearance");
  if (sources.trainingWorlds.length === 0) throw new FleetSimConfigError('no training worlds');
  if (sources.trainingWorlds.includes(sources.heldOutWorld)) {
    throw new FleetSimConfigError(`the held-out world ${sources.heldOutWorld} is also a training world`);
  }
}

async function writeKeys(dir: string, ids: readonly string[]): Promise<void> {
  for (const id of [...ids, 'observer']) {
    const written = await writeSiloKeys(id, dir);
    await addTrustedKey(path.join(dir, 'trusted.json'), id, publicKeyPem(written.keys.publicKey));
  }
}

function spawnSilo(
  o: FleetSimOptions,
  sources: FleetSimSources,
  scenario: Scenario,
  i: number,
  url: string,
  planFile: string,
): SiloProcess {
  const id = scenario.ids[i]!;
  const { world, seed } = worldOf(sources, i);
  const [command, ...prefix] = sources.siloCommand;
  const args = [
    ...prefix,
    ...['--fleet', FLEET, '--id', id, '--sim-world', world, '--samples', String(o.samples)],
    ...['--broker', url, '--plan', planFile, '--dir', o.stateDir, '--rounds', String(o.rounds)],
    ...['--local-steps', String(o.localSteps), '--batch', String(o.batch), '--lr', String(o.lr)],
    ...['--seed', String(o.seed + seed), '--timeout-ms', String(o.peerTimeoutMs), '--encoding', o.encoding],
  ];
  const every = o.randomiseAppearance ?? 0;
  const env = every > 0 ? { ...process.env, ...sources.siloEnv!(every) } : process.env;
  const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const logFile = createWriteStream(path.join(o.stateDir, `${id}.log`));
  const silo: SiloProcess = {
    id,
    child,
    tail: '',
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  const keep = (d: Buffer): void => {
    logFile.write(d);
    silo.tail = (silo.tail + d.toString()).slice(-3000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => logFile.end());
  return silo;
}

export async function runFleetSim(
  o: FleetSimOptions,
  sources: FleetSimSources,
  signal?: AbortSignal,
): Promise<FleetSimResult> {
  check(o, sources);
  const scenario = buildScenario({
    silos: o.silos,
    topology: o.topology,
    profile: o.profile,
    delayScale: o.delayScale,
    ...(o.network === undefined ? {} : { network: o.network.graph }),
  });
  await ensureDir(o.stateDir);
  await writeKeys(o.stateDir, scenario.ids);
  const planFile = path.join(o.stateDir, 'plan.json');
  await writeFile(planFile, `${JSON.stringify(scenario.plan, null, 2)}\n`);
  const arcs = scenario.plan.arcs
    .map(
      (a) =>
        `${a.from}->${a.to}${(a.multiplicity ?? 1) > 1 ? ` x${a.multiplicity}` : ''}` +
        (scenario.linkDelayMs.size > 0
          ? ` ${(scenario.linkDelayMs.get(linkKey(a.from, a.to)) ?? 0).toFixed(0)} ms`
          : ''),
    )
    .join(', ');
  o.log(`fleet sim: ${o.silos} silos on ${o.topology} (${arcs}), ${o.rounds} rounds, ${o.encoding}`);

  await initTfjs({ log: () => {} });
  // The held-out world as it looks: it is evaluated, never re-dressed.
  const heldOut = await sources.dataset(sources.heldOutWorld, o.evalSamples, 1000 + o.seed, {
    randomiseAppearance: 0,
  });

  let broker: EmbeddedBroker | undefined;
  const proxies: LinkProxy[] = [];
  const silos: SiloProcess[] = [];
  let observer: FleetObserver | undefined;
  try {
    broker = o.brokerUrl === undefined ? await startEmbeddedBroker() : undefined;
    const url = new URL(o.brokerUrl ?? broker!.url);
    const keys = await readSiloKeyFile(path.join(o.stateDir, 'observer.key'));
    const trusted = await readTrustedKeysFile(path.join(o.stateDir, 'trusted.json'));
    observer = await FleetObserver.connect({
      url: url.href,
      fleet: FLEET,
      ids: scenario.ids,
      keys,
      trusted,
      encoding: o.encoding,
      log: o.log,
      now: () => performance.now(),
    });
    for (const id of scenario.ids) {
      proxies.push(
        await startLinkProxy({
          fleet: FLEET,
          broker: { host: url.hostname, port: Number(url.port || 1883) },
          delayFrom: (peer) => scenario.linkDelayMs.get(linkKey(peer, id)) ?? 0,
        }),
      );
    }
    scenario.ids.forEach((_, i) => silos.push(spawnSilo(o, sources, scenario, i, proxies[i]!.url, planFile)));
    let failed: SiloProcessError | undefined;
    for (const s of silos) {
      s.child.once('exit', (code, sig) => {
        if (code !== 0) failed ??= new SiloProcessError(s.id, code, sig, s.tail);
      });
    }
    const stop = new AbortController();
    signal?.addEventListener('abort', () => stop.abort(), { once: true });
    const watch = setInterval(() => {
      if (failed !== undefined) stop.abort();
    }, 100);
    try {
      while (!observer.allOnline()) {
        if (stop.signal.aborted) throw failed ?? new FleetSimAbortedError('the fleet sim was stopped');
        await new Promise((r) => setTimeout(r, 50));
      }
      const t0 = performance.now();
      const curve: CurvePoint[] = [];
      let last: { average: WeightSet; atMs: number; wireBytes: number } | undefined;
      for (let k = 0; k < o.rounds; k++) {
        const observed = await observer.round(k, o.peerTimeoutMs * 2 + 60_000, stop.signal);
        if (stop.signal.aborted && failed === undefined) {
          throw new FleetSimAbortedError(`the fleet sim was stopped in round ${k}`);
        }
        if (observed === undefined || observed.silos.length < o.silos) {
          throw failed ?? new Error(`round ${k}: models of ${observed?.silos.join(', ') ?? 'no silo'} only`);
        }
        last = observed;
        const wallS = (observed.atMs - t0) / 1000;
        let rmse: number | undefined;
        if ((k + 1) % o.evalEvery === 0 || k === o.rounds - 1) {
          rmse = await rmseOf(observed.average, heldOut);
          curve.push({ round: k + 1, wallS, rmse });
          o.log(
            `round ${k + 1}/${o.rounds}: held-out RMSE ${rmse.toFixed(4)}, ${wallS.toFixed(1)} s, ` +
              `${(wallS / (k + 1)).toFixed(2)} s/round, sent per silo ` +
              proxies.map((p) => `${(p.modelBytesSent() / 2 ** 20).toFixed(1)} MiB`).join(', '),
          );
        }
        o.onRound?.(k + 1, rmse);
      }
      await Promise.all(silos.map((s) => s.exited));
      if (failed !== undefined) throw failed;
      const wallS = (last!.atMs - t0) / 1000;
      const result: FleetSimResult = {
        silos: o.silos,
        topology: o.topology,
        encoding: o.encoding,
        rounds: o.rounds,
        final_rmse: curve.at(-1)!.rmse,
        wall_s: wallS,
        wall_per_round_s: wallS / o.rounds,
        bytes_per_exchange: last!.wireBytes,
        bytes_sent_per_silo: proxies.map((p) => p.modelBytesSent()),
        eval_world: sources.heldOutWorld,
        eval_samples: heldOut.size,
        network: o.network?.name ?? null,
        delay_scale: o.delayScale,
        planned_cycle_ms: scenario.plannedCycleMs,
        curve,
        average: last!.average,
      };
      if (!o.compareCll) return result;
      return { ...result, cll_rmse: await centralised(o, sources, heldOut) };
    } finally {
      clearInterval(watch);
    }
  } finally {
    for (const s of silos)
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(silos.map((s) => s.exited));
    await observer?.close();
    for (const p of proxies) await p.close();
    await broker?.close();
  }
}

/**
 * Centralised learning on the union of the silos' data: the same samples, the same number of
 * steps (rounds x local steps) and learning-rate schedule, with a batch as large as the fleet's
 * batches together, so each step sees as many samples as one round of the fleet.
 */
async function centralised(
  o: FleetSimOptions,
  sources: FleetSimSources,
  heldOut: TrainingDataset,
): Promise<number> {
  const parts: TrainingDataset[] = [];
  for (let i = 0; i < o.silos; i++) {
    const { world, seed } = worldOf(sources, i);
    parts.push(
      await sources.dataset(world, o.samples, o.seed + seed, {
        randomiseAppearance: o.randomiseAppearance ?? 0,
      }),
    );
  }
  const steps = o.rounds * o.localSteps;
  const trainer = await Trainer.create({
    config: {
      seed: o.seed,
      batchSize: o.batch * o.silos,
      steps,
      // As runSilo schedules a silo's learning rate.
      lr: { base: o.lr, warmupSteps: 10, floor: o.lr / 100 },
    },
    dataset: new UnionDataset(parts),
    replicas: 1,
  });
  try {
    for (let s = 0; s < steps; s++) await trainer.trainStep();
    const rmse = await trainer.evaluate(heldOut, 16);
    o.log(
      `centralised: ${steps} steps of batch ${o.batch * o.silos} on the union, held-out RMSE ${rmse.toFixed(4)}`,
    );
    return rmse;
  } finally {
    await trainer.dispose();
  }
}
