// A silo's link to the broker in a fleet simulation: a TCP proxy on loopback between one silo
// process and the broker. Towards the silo it holds every PUBLISH of a peer's model chunks for
// that link's delay before passing it on, so a model sent over a slow link really arrives late
// in wall-clock, while everything else (acks, presence, pings) passes at once; towards the
// broker it passes everything and counts the bytes of the silo's own model chunks, which is what
// the silo sent. The silo and the broker speak plain MQTT to each other through it.

import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

import { parseTopic } from '../exchange/topics.ts';
import { MqttFrames, publishTopic } from './mqtt-frames.ts';

export interface LinkProxyOptions {
  readonly fleet: string;
  /** The broker's host and port. */
  readonly broker: { readonly host: string; readonly port: number };
  /** Delay (ms) of a model chunk from `peer` on its way to this silo; 0 for none. */
  readonly delayFrom: (peer: string) => number;
}

export interface LinkProxy {
  /** mqtt://127.0.0.1:port for the silo to connect to. */
  readonly url: string;
  /** Bytes of PUBLISH packets of this silo's model chunks towards the broker (headers included). */
  readonly modelBytesSent: () => number;
  /** Model chunk packets towards the broker. */
  readonly modelPacketsSent: () => number;
  close(): Promise<void>;
}

export async function startLinkProxy(options: LinkProxyOptions): Promise<LinkProxy> {
  let bytes = 0;
  let packets = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const isModel = (topic: string | undefined): string | undefined => {
    if (topic === undefined) return undefined;
    const t = parseTopic(options.fleet, topic);
    return t.kind === 'chunk' ? t.silo : undefined;
  };
  const server = createServer((silo) => {
    const broker = createConnection(options.broker);
    sockets.add(silo);
    sockets.add(broker);
    const up = new MqttFrames();
    const down = new MqttFrames();
    const end = (): void => {
      silo.destroy();
      broker.destroy();
      sockets.delete(silo);
      sockets.delete(broker);
    };
    silo.on('close', end).on('error', end);
    broker.on('close', end).on('error', end);
    silo.on('data', (chunk: Buffer) => {
      broker.write(chunk);
      try {
        for (const p of up.push(chunk)) {
          if (isModel(publishTopic(p)) !== undefined) {
            bytes += p.length;
            packets++;
          }
        }
      } catch {
        end(); // not MQTT: the broker would drop it too
      }
    });
    broker.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = down.push(chunk);
      } catch {
        end();
        return;
      }
      for (const p of frames) {
        const peer = isModel(publishTopic(p));
        const delay = peer === undefined ? 0 : options.delayFrom(peer);
        if (delay <= 0) {
          silo.write(p);
          continue;
        }
        // Every chunk of one peer waits the same time, so its packets keep their order.
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!silo.destroyed) silo.write(p);
        }, delay);
        timers.add(timer);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    modelBytesSent: () => bytes,
    modelPacketsSent: () => packets,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
