// Real MQTT brokers for the fleet tests: mosquitto started from a generated config on a free
// loopback port (alone, or two bridged to each other), and the embedded aedes broker. Every
// broker a test starts is stopped by the test's afterAll through stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { freeLoopbackPort } from '../../common/index.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mqtt from 'mqtt';

import { startEmbeddedBroker } from '../../fleet/exchange/index.ts';
import { until } from '../helpers/until.ts';

export const MOSQUITTO_MISSING =
  'mosquitto is not installed (apt-get install mosquitto); CI installs it and fails without it';

/** True when a mosquitto binary runs here. */
export function mosquittoAvailable(): boolean {
  const r = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  return r.error === undefined && /mosquitto version/.test(`${r.stdout}${r.stderr}`);
}

/**
 * Whether the mosquitto suites run: locally they skip (naming the package) when it is missing;
 * under CI=true a missing mosquitto fails loudly instead of skipping.
 */
export function mosquittoOrSkip(): boolean {
  const available = mosquittoAvailable();
  if (!available && process.env.CI === 'true') throw new Error(MOSQUITTO_MISSING);
  return available;
}

export interface TestBroker {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Stops the broker (SIGKILL: abruptly, as a crash; otherwise a clean shutdown). */
  stop(kill?: boolean): Promise<void>;
  /** Starts it again on the same port (after stop). */
  restart(): Promise<void>;
  /** Stops it for good and removes what it left on disk. */
  dispose(): Promise<void>;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitAccepting(port: number, what: string): Promise<void> {
  let ok = false;
  const poll = async (): Promise<void> => {
    while (!ok) {
      ok = await accepting(port);
      if (!ok) await new Promise((r) => setTimeout(r, 20));
    }
  };
  const polling = poll();
  try {
    await until(what, () => ok, 10_000);
  } finally {
    ok = true;
    await polling;
  }
}

export interface MosquittoOptions {
  /** Bridge every fleet/# message both ways to this broker. */
  readonly bridgeTo?: TestBroker;
  /** Keep retained messages and sessions across a restart (saved on clean shutdown). */
  readonly persistence?: boolean;
}

export async function startMosquitto(name: string, options: MosquittoOptions = {}): Promise<TestBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'fadnet-mosquitto-'));
  const port = await freeLoopbackPort();
  const conf = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    `persistence ${options.persistence === true ? 'true' : 'false'}`,
    `persistence_location ${dir}/`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    ...(options.bridgeTo === undefined
      ? []
      : [
          `connection ${name}-bridge`,
          `address 127.0.0.1:${options.bridgeTo.port}`,
          'topic fleet/# both 1',
          'bridge_protocol_version mqttv311',
          'try_private true',
          'cleansession true',
          'restart_timeout 1',
        ]),
  ].join('\n');
  const confPath = join(dir, 'mosquitto.conf');
  await writeFile(confPath, `${conf}\n`);
  let child: ChildProcess | undefined;
  let stderr = '';
  const launch = async (): Promise<void> => {
    const c = spawn('mosquitto', ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    try {
      await waitAccepting(port, `mosquitto ${name} on port ${port}`);
    } catch (error) {
      c.kill('SIGKILL');
      throw new Error(`mosquitto ${name} did not start: ${stderr}`, { cause: error });
    }
  };
  const halt = async (kill = false): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill(kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  await launch();
  return {
    name,
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: async (kill = false) => {
      await halt(kill);
    },
    restart: launch,
    dispose: async () => {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The embedded aedes broker with the same handle as mosquitto's (restart: a fresh broker on the same port). */
export async function startAedes(name: string): Promise<TestBroker> {
  let broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const port = broker.port;
  let running = true;
  const stop = async (): Promise<void> => {
    if (running) await broker.close();
    running = false;
  };
  return {
    name,
    url: broker.url,
    port,
    stop,
    dispose: stop,
    restart: async () => {
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port });
      running = true;
    },
  };
}

/** Stops every broker and removes mosquitto's generated config directories. */
export async function disposeAll(brokers: readonly (TestBroker | undefined)[]): Promise<void> {
  for (const b of brokers) await b?.dispose();
}

/**
 * Two mosquittos, the second bridging fleet/# both ways to the first; resolves once a message
 * published on each side has crossed the bridge (the bridge connects after both listen).
 */
export async function startBridgedMosquittos(): Promise<[TestBroker, TestBroker]> {
  const hub = await startMosquitto('hub');
  let edge: TestBroker | undefined;
  try {
    edge = await startMosquitto('edge', { bridgeTo: hub });
    await crosses(edge, hub);
    await crosses(hub, edge);
    return [hub, edge];
  } catch (error) {
    await disposeAll([edge, hub]);
    throw error;
  }
}

async function crosses(from: TestBroker, to: TestBroker): Promise<void> {
  const topic = `fleet/bridge-probe/${from.name}-${to.name}`;
  const sub = await mqtt.connectAsync(to.url, { reconnectPeriod: 0 });
  const pub = await mqtt.connectAsync(from.url, { reconnectPeriod: 0 });
  try {
    let seen = false;
    sub.on('message', (t) => (seen ||= t === topic));
    await sub.subscribeAsync(topic, { qos: 1 });
    const probe = setInterval(() => void pub.publishAsync(topic, 'probe', { qos: 1 }).catch(() => {}), 100);
    try {
      await until(`a message from ${from.name} to cross the bridge to ${to.name}`, () => seen, 15_000);
    } finally {
      clearInterval(probe);
    }
  } finally {
    await sub.endAsync();
    await pub.endAsync();
  }
}
