// A fleet of three silos in one process, each with a real MqttExchange and live plan on the
// embedded broker. The silos measure each other over MQTT, agree on a first plan, and when silo
// c starts answering probes 1.5 s late (its injected reply delay, as a slow link would) they
// re-plan: every silo must use the same plan at every round, switching at the same rounds.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connect, generateSiloKeys, startEmbeddedBroker } from '../../fleet/exchange/index.ts';
import type { EmbeddedBroker, MqttExchange } from '../../fleet/exchange/index.ts';
import { connectLivePlan, proposalId, signProposal, signRow } from '../../fleet/live-plan/index.ts';
import type { MqttLivePlan } from '../../fleet/live-plan/index.ts';
import { defaultPlan, Silo } from '../../fleet/silo/index.ts';
import type { CheckpointStore, LocalTrainer, SiloCheckpoint } from '../../fleet/silo/index.ts';
import { initialWeights, type WeightSet } from '../../models/src/weights/weight-set.ts';
import { systemClock } from '../../nodes/runtime/index.ts';
import { until } from '../helpers/until.ts';

const IDS = ['a', 'b', 'c'];
/** The silo that turns slow. */
const SLOW = 'c';
const FLEET = 'live-plan-test';
/** How late SLOW answers probes once it turns slow (ms). */
const SLOW_MS = 1500;

/** A model that does not train: the test is about which peers a round mixes, not learning. */
class StillTrainer implements LocalTrainer {
  #weights: WeightSet;
  constructor(seed: number) {
    this.#weights = initialWeights(seed);
  }
  async train(): Promise<void> {}
  weights(): WeightSet {
    return this.#weights;
  }
  load(weights: WeightSet): void {
    this.#weights = weights;
  }
  state(): Uint8Array {
    return new Uint8Array(0);
  }
  restore(): void {}
}

class MemoryCheckpoints implements CheckpointStore {
  last: SiloCheckpoint | undefined;
  async load(): Promise<SiloCheckpoint | undefined> {
    return this.last;
  }
  async save(checkpoint: SiloCheckpoint): Promise<void> {
    this.last = checkpoint;
  }
}

let broker: EmbeddedBroker;
const exchanges: MqttExchange[] = [];
const lives: MqttLivePlan[] = [];

beforeAll(async () => {
  broker = await startEmbeddedBroker();
});

afterAll(async () => {
  await Promise.all(lives.map((l) => l.close()));
  await Promise.all(exchanges.map((e) => e.close()));
  await broker?.close();
});

describe('a live plan over MQTT', () => {
  it('switches every silo to the same plan at the same round after delays drift', async () => {
    const initial = defaultPlan(IDS);
    const keys = new Map(IDS.map((id) => [id, generateSiloKeys()]));
    const trusted = new Map(IDS.map((id) => [id, keys.get(id)!.publicKey]));
    const lines: string[] = [];
    let slow = false;
    /** used[i][k]: the id of the proposal silo i used at round k ('initial' before any). */
    const used: string[][] = IDS.map(() => []);
    /** The hash of the plan silo 0 used at round k. */
    const planHash: string[] = [];
    const silos: Silo[] = [];
    for (const [i, id] of IDS.entries()) {
      const log = (line: string): number => lines.push(line);
      const exchange = await connect({
        url: broker.url,
        fleet: FLEET,
        silo: id,
        keys: keys.get(id)!,
        trusted,
        encoding: 'int8-channel',
        log,
      });
      exchanges.push(exchange);
      const live = await connectLivePlan({
        url: broker.url,
        fleet: FLEET,
        silo: id,
        keys: keys.get(id)!,
        trusted,
        initial,
        clock: systemClock,
        probeEveryMs: 200,
        probeBytes: 1024,
        marginRounds: 3,
        // All the silos share one event loop that decodes and mixes models, so an answer on
        // loopback can wait 100 ms or more: the floor and the injected delay stand well above that.
        drift: { relative: 0.25, minMs: 300 },
        replyDelayMs: () => (id === SLOW && slow ? SLOW_MS : 0),
        log,
      });
      lives.push(live);
      const plans = {
        planFor: (k: number) => {
          const plan = live.planFor(k);
          const p = live.proposalAt(k);
          used[i]![k] = p === undefined ? 'initial' : proposalId(p);
          if (i === 0) planHash[k] = p?.planHash ?? 'initial';
          return plan;
        },
      };
      silos.push(
        await Silo.start({
          id,
          plan: initial,
          plans,
          trainer: new StillTrainer(i + 1),
          exchange,
          clock: systemClock,
          checkpoints: new MemoryCheckpoints(),
          peerTimeoutMs: 10_000,
          rejoinWaitMs: 0,
          log,
        }),
      );
    }
    const round = (): Promise<unknown> => Promise.all(silos.map((s) => s.runRound()));
    const inForce = (k: number) => lives.map((l) => l.proposalAt(k));

    // The fleet measures itself and agrees on a first plan.
    for (let k = 0; k < 80 && !inForce(k - 1).every((p) => p !== undefined); k++) await round();
    const firstAt = silos[0]!.round - 1;
    expect(inForce(firstAt).every((p) => p !== undefined)).toBe(true);

    // c turns slow: every silo's RTT to c grows and the fleet re-plans until its plan knows it.
    slow = true;
    const knowsSlow = (k: number): boolean =>
      inForce(k).every(
        (p) =>
          p !== undefined &&
          p.rows
            .filter((r) => r.silo !== SLOW)
            .every((r) => {
              const toD = r.links.find((l) => l.to === SLOW)!.rttMs;
              return r.links.every((l) => l.to === SLOW || toD > l.rttMs + SLOW_MS / 2);
            }),
      );
    const driftFrom = silos[0]!.round;
    for (let n = 0; n < 120 && !knowsSlow(silos[0]!.round - 1); n++) await round();
    const last = silos[0]!.round - 1;
    expect(knowsSlow(last)).toBe(true);

    // Every silo used the same plan at every round.
    for (let k = 0; k <= last; k++)
      expect(
        used.map((u) => u[k]),
        `round ${k}`,
      ).toEqual(IDS.map(() => used[0]![k]));
    // The plans switched after the drift, and the last one differs from the first agreed plan.
    const switches = used[0]!.flatMap((p, k) => (k > 0 && p !== used[0]![k - 1] ? [k] : []));
    expect(switches.some((k) => k > driftFrom)).toBe(true);
    expect(planHash[last]).not.toBe(planHash[firstAt]);
    expect(lives[0]!.epochAt(last)).toBeGreaterThan(1);
    expect(lines.filter((l) => /refused|late|reject|fail/.test(l))).toEqual([]);

    // A malformed row and one forged by a stranger reach every silo and are refused with the reason.
    const intruder = await mqtt.connectAsync(broker.url, { clientId: 'live-plan-intruder' });
    const row = lives[0]!.row('a')!;
    const topic = `fleet/${FLEET}/plan/measurements/a`;
    await intruder.publishAsync(topic, JSON.stringify({ ...row, seq: 'soon' }), { qos: 1 });
    const forged = signRow(
      {
        fleet: FLEET,
        silo: 'a',
        seq: Number.MAX_SAFE_INTEGER - 1, // would stick, were it accepted
        links: row.links,
      },
      generateSiloKeys(),
    );
    await intruder.publishAsync(topic, JSON.stringify(forged), { qos: 1 });
    // A proposal signed by a fleet member whose plan hash is not what its measurements plan to.
    const held = lives[0]!.newestProposal()!;
    const { v: _v, sig: _sig, ...fields } = held;
    const wrong = signProposal(
      { ...fields, silo: 'a', seq: held.seq + 1, planHash: '0'.repeat(64) },
      keys.get('a')!,
    );
    await intruder.publishAsync(`fleet/${FLEET}/plan/proposals/a`, JSON.stringify(wrong), { qos: 1 });
    await intruder.endAsync();
    const planRefusals = (): string[] => lines.filter((l) => l.includes('refused the plan proposal'));
    await until('the wrong plan refused by every silo', () => planRefusals().length === 3);
    expect(planRefusals().sort()).toEqual(
      IDS.map(
        (id) =>
          `live plan ${id}: refused the plan proposal of a: plan hash ${'0'.repeat(64)}, but its measurements plan to ${held.planHash}`,
      ),
    );
    expect(lives.map((l) => l.newestProposal())).toEqual(lives.map(() => held));
    const refused = (): string[] => lines.filter((l) => l.includes('refused a measurement row'));
    await until('both rows refused by b and c', () => refused().length === 4);
    expect(refused().sort()).toEqual([
      'live plan b: refused a measurement row: malformed measurement row: seq: Invalid input: expected number, received string',
      'live plan b: refused a measurement row: measurement row of silo a: bad signature',
      'live plan c: refused a measurement row: malformed measurement row: seq: Invalid input: expected number, received string',
      'live plan c: refused a measurement row: measurement row of silo a: bad signature',
    ]);
    expect(lives[1]!.row('a')!.seq).toBeLessThan(forged.seq);
    console.log(
      `plan switches at rounds ${switches.join(', ')} (drift from round ${driftFrom}, ${last + 1} rounds)`,
    );
  }, 60_000);
});
