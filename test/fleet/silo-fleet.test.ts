// A small fleet in one process: four silos training FADNet on their own synthetic data, each
// with its own MQTT exchange on the embedded broker (a real broker on a loopback socket). After
// K rounds every silo's model must equal the planner's mixing matrices applied to the local
// updates the silos produced, stale models included, batch-norm statistics included.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connect, generateSiloKeys, startEmbeddedBroker } from '../../fleet/exchange/index.ts';
import type { EmbeddedBroker, MqttExchange } from '../../fleet/exchange/index.ts';
import {
  decideRound,
  FileCheckpointStore,
  inNeighbours,
  Silo,
  TrainerLocalUpdate,
} from '../../fleet/silo/index.ts';
import type { LocalTrainer, RoundReport } from '../../fleet/silo/index.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { syntheticDataset } from '../../models/src/train/dataset.ts';
import { Trainer } from '../../models/src/train/trainer.ts';
import type { WeightSet } from '../../models/src/weights/weight-set.ts';
import { systemClock } from '../../nodes/runtime/index.ts';
import { directMix, IDS, mixedPlan } from './silo-plans.ts';

const ROUNDS = 6;

/** Records every round's model before training and the local update after it. */
class Recording implements LocalTrainer {
  readonly before: WeightSet[] = [];
  readonly local: WeightSet[] = [];
  readonly #inner: TrainerLocalUpdate;
  readonly #turn: { chain: Promise<void> };

  constructor(inner: TrainerLocalUpdate, turn: { chain: Promise<void> }) {
    this.#inner = inner;
    this.#turn = turn;
  }

  async train(steps: number): Promise<void> {
    // The silos share one TF.js backend in this process: one trains at a time.
    const mine = this.#turn.chain.then(async () => {
      this.before.push(this.#inner.weights());
      await this.#inner.train(steps);
      this.local.push(this.#inner.weights());
    });
    this.#turn.chain = mine.catch(() => undefined);
    await mine;
  }
  weights(): WeightSet {
    return this.#inner.weights();
  }
  load(weights: WeightSet): void {
    this.#inner.load(weights);
  }
  state(): Uint8Array {
    return this.#inner.state();
  }
  restore(state: Uint8Array): void {
    this.#inner.restore(state);
  }
}

let broker: EmbeddedBroker;
let dir: string;
const exchanges: MqttExchange[] = [];
const trainers: Trainer[] = [];

beforeAll(async () => {
  await initTfjs({ log: () => {} });
  broker = await startEmbeddedBroker();
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-silo-fleet-'));
});

afterAll(async () => {
  await Promise.all(exchanges.map((e) => e.close()));
  await Promise.all(trainers.map((t) => t.dispose()));
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a fleet of silos over MQTT', () => {
  it('ends each round with the mixing matrices applied to the local updates', async () => {
    const plan = mixedPlan();
    const keys = new Map(IDS.map((id) => [id, generateSiloKeys()]));
    const trusted = new Map(IDS.map((id) => [id, keys.get(id)!.publicKey]));
    const turn = { chain: Promise.resolve() };
    const lines: string[] = [];
    const recordings: Recording[] = [];
    const silos: Silo[] = [];
    for (const [i, id] of IDS.entries()) {
      const trainer = await Trainer.create({
        config: { seed: i + 1, batchSize: 2, steps: 100, lr: { base: 1e-3, warmupSteps: 1, floor: 1e-5 } },
        dataset: syntheticDataset(4, 10 + i), // each silo's own data
        replicas: 1,
      });
      trainers.push(trainer);
      const exchange = await connect({
        url: broker.url,
        fleet: 'silo-test',
        silo: id,
        keys: keys.get(id)!,
        trusted,
        encoding: 'f32',
        peers: inNeighbours(plan, id),
        log: (line) => lines.push(line),
      });
      exchanges.push(exchange);
      const recording = new Recording(new TrainerLocalUpdate(trainer), turn);
      recordings.push(recording);
      silos.push(
        await Silo.start({
          id,
          plan,
          trainer: recording,
          exchange,
          clock: systemClock,
          checkpoints: new FileCheckpointStore(path.join(dir, `${id}.safetensors`), {
            silo: id,
            fleet: 'silo-test',
          }),
          peerTimeoutMs: 30_000,
          rejoinWaitMs: 0,
          log: (line) => lines.push(line),
        }),
      );
    }
    // Everything that reaches the broker, to show that only models (and presence) leave a silo.
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'silo-test-watcher' });
    const topics = new Set<string>();
    watcher.on('message', (topic) => topics.add(topic.replace(/\/\d+$/, '/N')));
    await watcher.subscribeAsync('#', { qos: 1 });
    const reports: RoundReport[][] = IDS.map(() => []);
    await Promise.all(silos.map((s, i) => s.run(ROUNDS, undefined, (r) => reports[i]!.push(r))));

    await watcher.endAsync();
    expect([...topics].sort()).toEqual(
      IDS.flatMap((id) => [`fleet/silo-test/models/${id}/N`, `fleet/silo-test/presence/${id}`]).sort(),
    );

    // The schedule really exercised every case: isolated rounds, fresh and stale models.
    const decisions = IDS.flatMap((id) => Array.from({ length: ROUNDS }, (_, k) => decideRound(plan, id, k)));
    expect(decisions.some((d) => d.isolated)).toBe(true);
    expect(decisions.some((d) => d.peers.some((p) => p.fresh))).toBe(true);
    expect(decisions.some((d) => d.peers.some((p) => !p.fresh))).toBe(true);
    expect(reports.flat().flatMap((r) => r.missing)).toEqual([]);
    expect(lines.filter((l) => /reject|fail/i.test(l))).toEqual([]);

    let worst = 0;
    for (let k = 0; k < ROUNDS; k++) {
      IDS.forEach((_, i) => {
        const expected = directMix(plan, k, i, (j, r) => recordings[j]!.local[r]!);
        const actual = k + 1 < ROUNDS ? recordings[i]!.before[k + 1]! : recordings[i]!.weights();
        expect([...actual.keys()]).toEqual([...expected.keys()]);
        for (const [name, values] of expected) {
          const got = actual.get(name)!;
          for (let v = 0; v < values.length; v++) {
            const d = Math.abs(got[v]! - values[v]!) / Math.max(1, Math.abs(values[v]!));
            if (d > worst) worst = d;
          }
        }
      });
    }
    // Float32 storage of a float64 sum: half an ulp of float32.
    expect(worst).toBeLessThan(1e-7);
    // Mixing changed the models: a silo's model is not just its own local update.
    expect(recordings[1]!.before[1]!.get('conv1.weight')).not.toEqual(
      recordings[1]!.local[0]!.get('conv1.weight'),
    );
  }, 120_000);
});
