// The fleet simulation's link emulation: MQTT framing fed one byte at a time, and the link
// proxy between a real client and the embedded broker holding a peer's model chunks for the
// link's delay while presence passes at once, and counting the model bytes its silo sends.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chunkTopic, presenceTopic, startEmbeddedBroker } from '../../fleet/exchange/index.ts';
import type { EmbeddedBroker } from '../../fleet/exchange/index.ts';
import { MqttFrames, MqttFramingError, publishTopic, startLinkProxy } from '../../fleet/sim/index.ts';
import type { LinkProxy } from '../../fleet/sim/index.ts';
import { until } from '../helpers/until.ts';

/** A QoS 0 PUBLISH packet by hand: fixed header, remaining length, topic, payload. */
function publishPacket(topic: string, payload: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode(topic);
  const body = new Uint8Array(2 + t.length + payload.length);
  body[0] = t.length >> 8;
  body[1] = t.length & 0xff;
  body.set(t, 2);
  body.set(payload, 2 + t.length);
  const length: number[] = [];
  let n = body.length;
  do {
    length.push((n % 128) | (n >= 128 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return new Uint8Array([0x30, ...length, ...body]);
}

describe('MqttFrames', () => {
  it('cuts packets out of a stream fed one byte at a time, multi-byte lengths included', () => {
    const big = publishPacket('fleet/f/models/a/0', new Uint8Array(20_000).fill(7));
    const ping = new Uint8Array([0xd0, 0x00]);
    const small = publishPacket('fleet/f/presence/a', new TextEncoder().encode('{}'));
    const stream = new Uint8Array([...big, ...ping, ...small]);
    const frames = new MqttFrames();
    const out: Uint8Array[] = [];
    for (const b of stream) out.push(...frames.push(new Uint8Array([b])));
    expect(out.map((p) => p.length)).toEqual([big.length, 2, small.length]);
    expect(out.map(publishTopic)).toEqual(['fleet/f/models/a/0', undefined, 'fleet/f/presence/a']);
    expect(frames.pending).toBe(0);
    expect(Buffer.from(out[0]!).equals(Buffer.from(big))).toBe(true);
  });

  it('refuses a remaining length longer than four bytes', () => {
    expect(() => new MqttFrames().push(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(
      MqttFramingError,
    );
  });
});

describe('link proxy', () => {
  let broker: EmbeddedBroker;
  let proxy: LinkProxy;
  const DELAY_MS = 400;

  beforeAll(async () => {
    broker = await startEmbeddedBroker();
    const url = new URL(broker.url);
    proxy = await startLinkProxy({
      fleet: 'f',
      broker: { host: url.hostname, port: Number(url.port) },
      delayFrom: (peer) => (peer === 'slow' ? DELAY_MS : 0),
    });
  });

  afterAll(async () => {
    await proxy.close();
    await broker.close();
  });

  it("holds a slow peer's model chunks for the link's delay, passes presence and fast peers at once", async () => {
    const silo = await mqtt.connectAsync(proxy.url, { reconnectPeriod: 0 });
    const peer = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      const arrived = new Map<string, number>();
      silo.on('message', (topic) => arrived.set(topic, performance.now()));
      await silo.subscribeAsync(['fleet/f/models/+/+', 'fleet/f/presence/+'], { qos: 1 });
      const sent = performance.now();
      await peer.publishAsync(chunkTopic('f', 'slow', 0), Buffer.alloc(1000, 1), { qos: 1 });
      await peer.publishAsync(presenceTopic('f', 'slow'), '{}', { qos: 1 });
      await peer.publishAsync(chunkTopic('f', 'fast', 0), Buffer.alloc(1000, 2), { qos: 1 });
      await until('all three messages', () => arrived.size === 3, 10_000);
      // At least the delay: setTimeout never fires early. The others passed before it.
      expect(arrived.get(chunkTopic('f', 'slow', 0))! - sent).toBeGreaterThanOrEqual(DELAY_MS - 1);
      expect(arrived.get(presenceTopic('f', 'slow'))!).toBeLessThan(arrived.get(chunkTopic('f', 'slow', 0))!);
      expect(arrived.get(chunkTopic('f', 'fast', 0))!).toBeLessThan(arrived.get(chunkTopic('f', 'slow', 0))!);
    } finally {
      await silo.endAsync();
      await peer.endAsync();
    }
  });

  it('counts the model chunk bytes its silo publishes, not its presence', async () => {
    const before = proxy.modelBytesSent();
    const silo = await mqtt.connectAsync(proxy.url, { reconnectPeriod: 0 });
    try {
      const topic = chunkTopic('f', 'me', 3);
      await silo.publishAsync(topic, Buffer.alloc(5000, 9), { qos: 1 });
      await silo.publishAsync(presenceTopic('f', 'me'), '{"state":"online"}', { qos: 1 });
      // QoS 1 PUBLISH: fixed header (1 + 2 length bytes), topic length and topic, packet id, payload.
      const expected = 1 + 2 + 2 + topic.length + 2 + 5000;
      await until('the proxy to count the chunk', () => proxy.modelBytesSent() - before === expected, 5000);
      expect(proxy.modelPacketsSent()).toBeGreaterThanOrEqual(1);
    } finally {
      await silo.endAsync();
    }
  });
});
