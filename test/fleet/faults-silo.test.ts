// Faults done for real in a fleet of three `fadnet silo` processes on the embedded broker,
// following the default ring a -> b -> c -> a (tiny synthetic data, u = 1):
//   1. a rogue client publishes garbage, a truncated chunk and a forged update on silo a's
//      topic: b (a's only listener) refuses each with a logged reason and the fleet goes on;
//   2. silo b is killed with SIGKILL mid-run: c, which waits on b's models, times out and
//      carries on, and so does a (no deadlock around the ring); b started again from its
//      checkpoint rejoins at the fleet's round from a's retained model and mixes a's models again.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  chunkTopic,
  chunkUpdate,
  encodeWeights,
  generateSiloKeys,
  readSiloKeyFile,
} from '../../fleet/exchange/index.ts';
import { initialWeights } from '../../models/src/weights/weight-set.ts';
import { until } from '../helpers/until.ts';
import { startAedes, type TestBroker } from './brokers.ts';
import { lastRound, roundLines, siloFleet, type SiloFleet, type SiloRun } from './faults-silos.ts';

const FLEET = 'faults';
const ROUNDS = 14;
const TIMEOUT_MS = 3000;

let broker: TestBroker;
let fleet: SiloFleet;

beforeAll(async () => {
  broker = await startAedes('faults');
  fleet = await siloFleet(FLEET, ['a', 'b', 'c']);
});

afterAll(async () => {
  await fleet?.stopAll();
  await broker?.dispose();
});

/** Publishes [chunk index, bytes] pairs on silo a's chunk topics. */
async function roguePublish(chunks: readonly (readonly [number, Uint8Array])[]): Promise<void> {
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  try {
    // Not retained: a's own retained newest model must stay what a published.
    for (const [i, bytes] of chunks) {
      await client.publishAsync(chunkTopic(FLEET, 'a', i), Buffer.from(bytes), { qos: 1 });
    }
  } finally {
    await client.endAsync();
  }
}

describe('a fleet of silo processes under faults', () => {
  it('refuses bad updates with reasons, survives a SIGKILLed silo and takes it back', async () => {
    const start = (id: string): SiloRun =>
      fleet.start(id, { rounds: ROUNDS, timeoutMs: TIMEOUT_MS, broker: broker.url });
    const a = start('a');
    let b = start('b');
    const c = start('c');
    await until('every silo to finish round 1', () => [a, b, c].every((r) => lastRound(r) >= 1), 90_000);

    // 1. Garbage, a truncated chunk of a real signed update, and an update signed by a key that is not a's.
    const payload = encodeWeights(initialWeights(7), 'f16');
    const aKeys = await readSiloKeyFile(`${fleet.dir}/a.key`);
    const signed = (privateKey: typeof aKeys.privateKey): Uint8Array[] =>
      chunkUpdate({
        fleet: FLEET,
        silo: 'a',
        round: 1,
        counter: 1,
        encoding: 'f16',
        payload,
        privateKey,
        chunkBytes: 64 * 1024,
      });
    const truncated = signed(aKeys.privateKey)[0]!.subarray(0, 5000);
    const forged = signed(generateSiloKeys().privateKey);
    await roguePublish([
      [0, new TextEncoder().encode('not a model at all')],
      [0, truncated],
      ...forged.map((chunk, i) => [i, chunk] as const),
    ]);
    await until(
      'b to log three refusals',
      () => (b.err.match(/rejected update from a/g) ?? []).length >= 3,
      30_000,
    );
    const refusals = b.err.split('\n').filter((l) => l.includes('rejected update from a'));
    expect(refusals[0]).toContain('not a chunk');
    expect(refusals.some((l) => /bad signature/.test(l))).toBe(true);
    expect(refusals.length).toBeGreaterThanOrEqual(3);

    // 2. b killed mid-run.
    const killedAfter = lastRound(b);
    b.child.kill('SIGKILL');
    await b.exited;
    expect(b.exit?.signal).toBe('SIGKILL');
    await until(
      'c to time out on b and carry on',
      () => roundLines(c.out).some((l) => l.timedOut.includes('b')),
      60_000,
    );
    const cAtKill = lastRound(c);
    await until(
      'a and c to go on past the kill',
      () => lastRound(c) >= cAtKill + 1 && lastRound(a) >= cAtKill + 1,
      60_000,
    );

    b = start('b');
    await until(
      'b to rejoin and finish a round',
      () => lastRound(b) >= 0 || b.exit !== undefined,
      180_000,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nb:\n${b.err}${b.out}`, { cause: error });
    });
    const rejoin = /checkpoint at round (\d+), fleet at round (\d+); starting at round (\d+)/.exec(b.err);
    expect(rejoin, b.err).not.toBeNull();
    const [checkpoint, fleetRound, startRound] = rejoin!.slice(1).map(Number) as [number, number, number];
    // The round after the last one it printed, or one more if the kill fell between its
    // checkpoint and its log line.
    expect([killedAfter + 1, killedAfter + 2]).toContain(checkpoint);
    expect(startRound).toBe(Math.max(checkpoint, fleetRound));
    expect(fleetRound).toBeGreaterThan(checkpoint);
    await Promise.all([a.exited, b.exited, c.exited]);
    for (const r of [a, b, c]) expect(r.exit, `${r.id}: ${r.err}`).toEqual({ code: 0, signal: null });

    // Every silo reached the last round; the rejoined b mixed a's models again after rejoining.
    for (const r of [a, b, c]) expect(lastRound(r)).toBe(ROUNDS - 1);
    const afterRejoin = roundLines(b.out);
    expect(afterRejoin[0]!.round).toBe(startRound);
    expect(afterRejoin.some((l) => l.mixed.some((m) => m.startsWith('a@')))).toBe(true);
    // No round ran twice in any process run.
    for (const r of [a, b, c]) {
      const rounds = roundLines(r.out).map((l) => l.round);
      expect(new Set(rounds).size).toBe(rounds.length);
    }
  }, 420_000);
});
