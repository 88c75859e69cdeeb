// One PeerExchange suite, run over every broker the fleet uses: the embedded aedes broker,
// mosquitto (MQTT 3.1.1 and 5), and two bridged mosquittos with the silos on different brokers
// (how a fleet outgrows one broker). The mosquitto halves skip locally when it is not installed,
// naming the package, and fail under CI=true.
import { spawn } from 'node:child_process';

import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  chunkUpdate,
  connect,
  encodeWeights,
  generateSiloKeys,
  type ConnectOptions,
  type MqttExchange,
  type Rejection,
  type SiloKeys,
  type TrustedKeys,
} from '../../fleet/exchange/index.ts';
import { initialWeights, type WeightSet } from '../../models/src/weights/weight-set.ts';
import { until } from '../helpers/until.ts';
import {
  disposeAll,
  mosquittoOrSkip,
  startAedes,
  startBridgedMosquittos,
  startMosquitto,
  type TestBroker,
} from './brokers.ts';

const SILOS = ['a', 'b', 'c'] as const;
type Silo = (typeof SILOS)[number];
const keys = new Map<string, SiloKeys>(SILOS.map((s) => [s, generateSiloKeys()]));
const trusted: TrustedKeys = new Map(SILOS.map((s) => [s, keys.get(s)!.publicKey]));
const weights = (seed: number): WeightSet => initialWeights(seed);

interface Setup {
  readonly brokers: TestBroker[];
  /** The broker each silo connects to. */
  readonly urlOf: (silo: Silo) => string;
  readonly protocolVersion: 4 | 5;
}

const haveMosquitto = mosquittoOrSkip();
const brokers: [string, boolean, () => Promise<Setup>][] = [
  [
    'embedded aedes',
    true,
    async () => {
      const b = await startAedes('aedes');
      return { brokers: [b], urlOf: () => b.url, protocolVersion: 4 };
    },
  ],
  [
    'mosquitto, MQTT 3.1.1',
    haveMosquitto,
    async () => {
      const b = await startMosquitto('single');
      return { brokers: [b], urlOf: () => b.url, protocolVersion: 4 };
    },
  ],
  [
    'mosquitto, MQTT 5',
    haveMosquitto,
    async () => {
      const b = await startMosquitto('single5');
      return { brokers: [b], urlOf: () => b.url, protocolVersion: 5 };
    },
  ],
  [
    'two bridged mosquittos, silos on different brokers',
    haveMosquitto,
    async () => {
      const [hub, edge] = await startBridgedMosquittos();
      return { brokers: [hub, edge], urlOf: (s) => (s === 'a' ? hub.url : edge.url), protocolVersion: 4 };
    },
  ],
];

let fleetSeq = 0;

describe.each(brokers)('PeerExchange contract: %s', (_name, available, setup) => {
  let env: Setup | undefined;
  let fleet = '';
  const open: MqttExchange[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    if (available) env = await setup();
  });
  afterAll(async () => {
    await disposeAll(env?.brokers ?? []);
  });
  afterEach(async () => {
    for (const x of open.splice(0)) await x.close();
    logs.length = 0;
    fleet = '';
  });

  const join = async (silo: Silo, extra: Partial<ConnectOptions> = {}): Promise<MqttExchange> => {
    if (fleet === '') fleet = `contract${++fleetSeq}`;
    const x = await connect({
      url: env!.urlOf(silo),
      fleet,
      silo,
      keys: keys.get(silo)!,
      trusted,
      encoding: 'f32',
      protocolVersion: env!.protocolVersion,
      chunkBytes: 100_000,
      log: (line) => logs.push(line),
      ...extra,
    });
    open.push(x);
    return x;
  };

  it.skipIf(!available)('delivers a verified model to a waiting peer, exactly as sent in f32', async () => {
    const a = await join('a');
    const b = await join('b');
    const waiting = b.modelOf('a', 1, 20_000);
    await a.publishModel(1, weights(1));
    const got = await waiting;
    expect(got?.silo).toBe('a');
    expect(got?.round).toBe(1);
    expect(got?.encoding).toBe('f32');
    expect(got?.weights.get('conv1.weight')).toEqual(weights(1).get('conv1.weight'));
    expect(got?.weights.get('res_block3.batch_norm_1.running_var')).toEqual(
      weights(1).get('res_block3.batch_norm_1.running_var'),
    );
    expect(got?.wireBytes).toBeGreaterThan(4 * 342_684);
    expect(b.newest('a')).toBe(got);
    // Already held: answered at once, even with no time to wait.
    expect(await b.modelOf('a', 1, 0)).toBe(got);
  });

  it.skipIf(!available)(
    'int8 per channel travels in under 0.4 MB and decodes within a quantisation step',
    async () => {
      const a = await join('a', { encoding: 'int8-channel' });
      const b = await join('b');
      const waiting = b.modelOf('a', 3, 20_000);
      await a.publishModel(3, weights(3));
      const got = await waiting;
      expect(got?.encoding).toBe('int8-channel');
      expect(got!.wireBytes).toBeLessThan(400_000);
      const sent = weights(3).get('conv4_support.weight')!;
      const back = got!.weights.get('conv4_support.weight')!;
      const maxAbs = sent.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(back.every((v, i) => Math.abs(v - sent[i]!) <= maxAbs / 127 / 2 + 1e-7)).toBe(true);
    },
  );

  it.skipIf(!available)('a late peer catches up from the retained newest model and presence', async () => {
    const a = await join('a');
    await a.publishModel(1, weights(1));
    await a.publishModel(2, weights(2));
    const c = await join('c');
    await until("c to receive a's retained newest model", () => c.newest('a') !== undefined, 20_000);
    expect(c.newest('a')?.round).toBe(2);
    expect(c.newest('a')?.weights.get('fc.weight')).toEqual(weights(2).get('fc.weight'));
    expect(c.heldRounds('a')).toEqual([2]);
    await until('c to see a online', () => c.presence('a')?.state === 'online', 10_000);
  });

  it.skipIf(!available)('holds a bounded number of recent rounds per peer', async () => {
    const a = await join('a');
    const b = await join('b', { heldRounds: 3 });
    for (let r = 1; r <= 5; r++) await a.publishModel(r, weights(r));
    await until('b to hold round 5', () => b.newest('a')?.round === 5, 20_000);
    expect(b.heldRounds('a')).toEqual([3, 4, 5]);
    expect(await b.modelOf('a', 1, 10)).toBeUndefined();
    expect((await b.modelOf('a', 4, 10))?.weights.get('fc.bias')).toEqual(weights(4).get('fc.bias'));
  });

  it.skipIf(!available)('a silo given its peers receives only their models', async () => {
    const a = await join('a');
    const c = await join('c');
    const b = await join('b', { peers: ['a'] });
    await c.publishModel(1, weights(5));
    await a.publishModel(1, weights(1));
    expect((await b.modelOf('a', 1, 20_000))?.round).toBe(1);
    expect(await b.modelOf('c', 1, 300)).toBeUndefined();
    expect(b.stats()).toMatchObject({ accepted: 1, rejected: 0, duplicates: 0 });
  });

  it.skipIf(!available)('modelOf gives up after its timeout and when its signal aborts', async () => {
    const b = await join('b');
    const t0 = Date.now();
    expect(await b.modelOf('a', 7, 50)).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    const abort = new AbortController();
    const waiting = b.modelOf('a', 7, 60_000, abort.signal);
    abort.abort();
    expect(await waiting).toBeUndefined();
  });

  it.skipIf(!available)(
    "a peer's Last Will marks it offline when its process dies; close() does too",
    async () => {
      const b = await join('b');
      const c = await join('c');
      // A real process that connects as silo a and is killed without closing.
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'test/fleet/exchange-peer-process.ts',
          env!.urlOf('a'),
          fleet,
          String(env!.protocolVersion),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      try {
        let ready = false;
        child.stdout!.on('data', (d: Buffer) => (ready ||= d.toString().includes('ready')));
        await until('the peer process to connect', () => ready, 30_000);
        await until('b to see a online', () => b.presence('a')?.state === 'online', 10_000);
        child.kill('SIGKILL');
        await until("a's Last Will to reach b", () => b.presence('a')?.state === 'offline', 15_000);
      } finally {
        child.kill('SIGKILL');
      }
      await until('b to see c online', () => b.presence('c')?.state === 'online', 10_000);
      await c.close();
      await until("c's goodbye to reach b", () => b.presence('c')?.state === 'offline', 10_000);
    },
  );

  it.skipIf(!available)('refuses a forged update on the wire, logs why, and carries on', async () => {
    const a = await join('a');
    const b = await join('b');
    const rejected: Rejection[] = [];
    b.onRejected((r) => rejected.push(r));
    // Silo c's key signing as silo a, published by a raw client straight onto a's topic.
    const forged = await mqtt.connectAsync(env!.urlOf('c'), { reconnectPeriod: 0 });
    try {
      const msgs = chunkUpdate({
        fleet,
        silo: 'a',
        round: 1,
        counter: 1,
        encoding: 'f32',
        payload: encodeWeights(weights(9), 'f32'),
        privateKey: keys.get('c')!.privateKey,
        chunkBytes: 1_000_000,
      });
      await forged.publishAsync(`fleet/${fleet}/models/a/0`, Buffer.from(msgs[0]!), { qos: 1 });
      await until('b to reject the forgery', () => rejected.length === 1, 20_000);
      expect(rejected[0]).toEqual({
        silo: 'a',
        round: 1,
        reason: 'bad signature: the envelope is not signed by silo "a"\'s key',
      });
      expect(logs.some((l) => l.includes('rejected update from a round 1: bad signature'))).toBe(true);
      await a.publishModel(1, weights(1));
      expect((await b.modelOf('a', 1, 20_000))?.weights.get('fc.weight')).toEqual(
        weights(1).get('fc.weight'),
      );
      expect(b.stats()).toMatchObject({ accepted: 1, rejected: 1 });
    } finally {
      await forged.endAsync();
    }
  });
});
