// The figures telemetry takes from the silo: the exchange counts the bytes of the chunk
// messages it sends and receives (what the silo node reports as bytes_sent and bytes_received).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connect, generateSiloKeys, type TrustedKeys } from '../../fleet/exchange/index.ts';
import { initialWeights } from '../../models/src/weights/weight-set.ts';
import { startAedes, type TestBroker } from '../fleet/brokers.ts';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startAedes('silo-figures');
});

afterAll(async () => {
  await broker.dispose();
});

describe('exchange byte counters', () => {
  it('count every chunk message of an update on both sides, and nothing else', async () => {
    const keys = { a: generateSiloKeys(), b: generateSiloKeys() };
    const trusted: TrustedKeys = new Map([
      ['a', keys.a.publicKey],
      ['b', keys.b.publicKey],
    ]);
    const common = { url: broker.url, fleet: 'figures', trusted, encoding: 'int8' as const, log: () => {} };
    const a = await connect({ ...common, silo: 'a', keys: keys.a });
    const b = await connect({ ...common, silo: 'b', keys: keys.b, peers: ['a'] });
    expect([a.stats().bytesSent, b.stats().bytesReceived]).toEqual([0, 0]);
    await a.publishModel(1, initialWeights(1));
    expect(await b.modelOf('a', 1, 10_000)).toBeDefined();
    // int8 over 64 KiB chunks: six chunk messages of one update. fleet/exchange/README.md gives
    // 362,028 bytes for it, measured under the benchmark's fleet name, 9 characters longer than
    // this one (every chunk's header carries it).
    expect([a.stats().bytesSent, b.stats().bytesReceived, b.stats().bytesSent]).toEqual([
      361_974, 361_974, 0,
    ]);
    await a.close();
    await b.close();
  });
});
