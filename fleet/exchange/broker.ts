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

/** The broker a fleet command talks to, and whether this process hosts it. */
export interface FleetBroker {
  readonly url: string;
  /** True when this process started the embedded broker (its clients go when it goes). */
  readonly hosted: boolean;
  /** Stops the embedded broker this process hosts; nothing for one it only uses. */
  close(): Promise<void>;
}

/** Where a command's embedded broker listens when it has no --broker: the MQTT port, loopback. */
export const DEFAULT_EMBEDDED_LISTEN = { host: '127.0.0.1', port: 1883 } as const;

/**
 * `url` when given; otherwise an embedded broker on `listen`. When that port is taken (another
 * silo on this machine already hosts the fleet's broker there, or a mosquitto runs on it), this
 * process joins whatever listens there instead of failing: the first silo started hosts, the
 * others use it, and a port held by something that is not MQTT fails at connect with its reason.
 */
export async function brokerFor(
  url: string | undefined,
  listen: EmbeddedBrokerOptions = DEFAULT_EMBEDDED_LISTEN,
  log: (line: string) => void = () => {},
): Promise<FleetBroker> {
  if (url !== undefined) return { url, hosted: false, close: async () => {} };
  const host = listen.host ?? DEFAULT_EMBEDDED_LISTEN.host;
  const port = listen.port ?? DEFAULT_EMBEDDED_LISTEN.port;
  try {
    const broker = await startEmbeddedBroker({ host, port });
    log(`embedded MQTT broker (aedes) listening on ${broker.url}`);
    return { url: broker.url, hosted: true, close: () => broker.close() };
  } catch (error) {
    const code =
      (error as Error).cause instanceof Error
        ? ((error as Error).cause as NodeJS.ErrnoException).code
        : undefined;
    if (code !== 'EADDRINUSE' || port === 0) throw error;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const existing = `mqtt://${urlHost}:${port}`;
    log(`port ${port} is taken: using the broker already listening on ${existing}`);
    return { url: existing, hosted: false, close: async () => {} };
  }
}
