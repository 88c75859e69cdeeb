// The embedded MQTT broker: aedes on a node:net server, in this process, so a fleet simulation
// or a bench runs with nothing installed. It is a real MQTT 3.1.1 broker on a real socket
// (retained messages, QoS 1, wills, persistent sessions in memory); a fleet that outgrows one
// process points --broker at mosquitto, EMQX or HiveMQ instead, with the same client code.

import { createServer, type AddressInfo, type Socket } from 'node:net';

import { Aedes } from 'aedes';

import { BrokerConnectError } from './errors.ts';

export interface EmbeddedBrokerOptions {
  /** Loopback by default: the embedded broker is for one machine. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
}

export interface EmbeddedBroker {
  /** mqtt://host:port to hand to clients. */
  readonly url: string;
  readonly port: number;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw new BrokerConnectError(`mqtt://${host}:${options.port ?? 0}`, 'the embedded broker cannot listen', {
      cause: error,
    });
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `mqtt://${urlHost}:${port}`,
    port,
    close: () =>
      (closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await stopped;
      })()),
  };
}
