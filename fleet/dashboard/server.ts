// The dashboard's web server (node:http): the static page from public/ (no build step, no CDN:
// a lab or a robot may be offline), the fleet's snapshot as JSON, and live updates as
// Server-Sent Events, one event per robot message, so the browser redraws as messages arrive.
// A viewer that cannot keep up is dropped rather than buffered for (memory stays bounded with
// 200 robots at 1 Hz), and it reconnects by itself (EventSource does).

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { FleetPlan } from '../silo/index.ts';
import { FleetSubscriber, type FleetEvent } from './subscriber.ts';
import { FleetView } from './view.ts';

const PUBLIC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');

/** The only files served: a fixed list, so no request path ever reaches the file system. */
const STATIC: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** Bytes queued to one viewer beyond which it is dropped (it reconnects and gets a fresh snapshot). */
const MAX_VIEWER_BACKLOG = 4 * 1024 * 1024;

export interface DashboardOptions {
  readonly url: string;
  readonly fleet: string;
  readonly host?: string;
  readonly port?: number;
  /** A plan file's plan; without it the live plan's proposals (or the default ring) are drawn. */
  readonly plan?: { readonly plan: FleetPlan; readonly source: string };
  readonly historyPoints?: number;
  readonly log?: (line: string) => void;
}

export class DashboardError extends Error {
  override readonly name = 'DashboardError';
}

/** Broker-to-dashboard delays (receipt minus the robot's publish time), kept for the benchmark. */
class DelaySamples {
  #samples = new Float64Array(1 << 16);
  #n = 0;

  add(ms: number): void {
    if (this.#n === this.#samples.length) {
      // Bounded: past 4M samples (about 5.5 hours of 200 robots) the oldest half is forgotten.
      if (this.#n >= 1 << 22) {
        this.#samples.copyWithin(0, this.#n >> 1);
        this.#n -= this.#n >> 1;
      } else {
        const bigger = new Float64Array(this.#samples.length * 2);
        bigger.set(this.#samples);
        this.#samples = bigger;
      }
    }
    this.#samples[this.#n++] = ms;
  }

  drain(): number[] {
    const out = Array.from(this.#samples.subarray(0, this.#n));
    this.#n = 0;
    return out;
  }

  get count(): number {
    return this.#n;
  }
}

export interface DashboardStats {
  readonly received: number;
  readonly rejected: number;
  readonly viewers: number;
  readonly viewersDropped: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Delays measured since the last call with `drain`, in ms. */
  readonly delaysMs?: number[];
}

export interface Dashboard {
  readonly url: string;
  readonly port: number;
  readonly view: FleetView;
  stats(drain?: boolean): DashboardStats;
  close(): Promise<void>;
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const log = o.log ?? ((line: string) => console.error(line));
  const view = new FleetView({
    fleet: o.fleet,
    ...(o.historyPoints === undefined ? {} : { historyPoints: o.historyPoints }),
  });
  if (o.plan !== undefined) view.setPlan(o.plan.plan, o.plan.source);
  const viewers = new Set<ServerResponse>();
  const delays = new DelaySamples();
  let dropped = 0;

  const send = (event: string, data: unknown): void => {
    if (viewers.size === 0) return;
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of viewers) {
      if (res.writableLength > MAX_VIEWER_BACKLOG) {
        viewers.delete(res);
        dropped++;
        res.destroy();
        continue;
      }
      res.write(text);
    }
  };

  const link: { subscriber?: FleetSubscriber } = {};
  let overlayKey = '';
  /** Sends the overlay when the plan in force or the round moved (which proposal, which links are strong). */
  const overlayChanged = (): void => {
    // Retained messages arrive while connect() still runs: the subscriber is there from the first tick on.
    link.subscriber?.refreshPlan();
    const overlay = view.overlay();
    const key = JSON.stringify(overlay);
    if (key !== overlayKey) {
      overlayKey = key;
      send('overlay', overlay);
    }
  };
  let round = 0;
  const onEvent = (e: FleetEvent): void => {
    if (e.kind === 'telemetry') delays.add(e.receivedAt - e.record.at);
    if (e.kind !== 'plan') send('robot', view.robot(e.robot));
    // A new round changes the links' states at once, not at the next tick.
    const now = view.round();
    if (e.kind === 'plan' || now !== round) {
      round = now;
      overlayChanged();
    }
  };
  const connected = await FleetSubscriber.connect({
    url: o.url,
    view,
    fixedPlan: o.plan !== undefined,
    log,
    onEvent,
  });
  link.subscriber = connected;

  // Once a second as well: robots going offline change the round without a telemetry event.
  const tick = setInterval(overlayChanged, 1000);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const [url, query] = (req.url ?? '/').split('?') as [string, string | undefined];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const file = STATIC[url];
    if (file !== undefined) {
      const body = await readFile(path.join(PUBLIC, file.file));
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' }).end(body);
      return;
    }
    if (url === '/api/snapshot') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(view.snapshot(Date.now())));
      return;
    }
    if (url === '/api/stats') {
      // Memory and delays for the scale benchmark; `?drain=1` hands over (and forgets) the delay samples.
      const drain = new URLSearchParams(query ?? '').get('drain') === '1';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats(drain)));
      return;
    }
    if (url === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      res.write(`event: snapshot\ndata: ${JSON.stringify(view.snapshot(Date.now()))}\n\n`);
      viewers.add(res);
      req.once('close', () => viewers.delete(res));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  const stats = (drain: boolean): DashboardStats => {
    const memory = process.memoryUsage();
    return {
      ...connected.stats,
      viewers: viewers.size,
      viewersDropped: dropped,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      ...(drain ? { delaysMs: delays.drain() } : {}),
    };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`dashboard: ${req.url}: ${(error as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });
  const host = o.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 8080, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    clearInterval(tick);
    await connected.close();
    throw new DashboardError(
      `the dashboard cannot listen on ${host}:${o.port ?? 8080}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}/`,
    port,
    view,
    stats: (drain = false) => stats(drain),
    close: async () => {
      clearInterval(tick);
      for (const res of viewers) res.destroy();
      viewers.clear();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await connected.close();
    },
  };
}
