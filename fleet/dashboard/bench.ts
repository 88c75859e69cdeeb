// `fadnet bench telemetry`: N simulated robots (200 by default) publishing telemetry at 1 Hz on
// one broker, the dashboard running as its own process as it would in a lab. Measures the
// broker-to-dashboard delay (the robot's publish time to the dashboard server's receipt) and
// to a live viewer (receipt of the Server-Sent Event a browser would get), and the dashboard
// process's memory over the run. Every process here shares one machine's clock, so the delays
// are differences of one clock.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { numberArg, parseCommandArgs, percentile, progressBar, round3 } from '../../common/index.ts';
import { startEmbeddedBroker } from '../exchange/index.ts';
import { startSimulatedFleet } from '../telemetry/index.ts';
import type { DashboardSnapshot, RobotView } from './view.ts';
import type { DashboardStats } from './server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface MemorySample {
  readonly s: number;
  readonly rssMb: number;
  readonly heapMb: number;
}

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

function summary(samples: number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(samples).sort();
  return {
    n: sorted.length,
    p50: round3(percentile(sorted, 0.5)),
    p99: round3(percentile(sorted, 0.99)),
    max: round3(sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!),
  };
}

/** Reads the dashboard's event stream as a browser's EventSource would, timing each robot update. */
async function viewer(url: string, delays: number[], abort: AbortSignal): Promise<void> {
  const response = await fetch(new URL('/events', url), { signal: abort });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const lastSeq = new Map<string, number>();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const now = Date.now();
      text += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        if (!block.startsWith('event: robot\n')) continue;
        const robot = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as RobotView;
        const t = robot.telemetry;
        // Status and OTA updates resend the robot's last record: only a new record is timed.
        if (t === null || lastSeq.get(robot.robot) === t.seq) continue;
        lastSeq.set(robot.robot, t.seq);
        delays.push(now - t.at);
      }
    }
  } catch (error) {
    if (!abort.aborted) throw error;
  }
}

export async function benchTelemetryCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    robots: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '60' },
    broker: { type: 'string' },
    'sample-every': { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  });
  if (parsed.help) return 0; // bin/cli.ts prints the benchmark's usage
  const v = parsed.values;
  const robots = numberArg('--robots', v.robots, { integer: true, min: 1, max: 5000 });
  const seconds = numberArg('--seconds', v.seconds, { min: 5, max: 86_400 });
  const sampleEvery = numberArg('--sample-every', v['sample-every'], { min: 1, max: 3600 });
  const embedded =
    v.broker === undefined ? await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }) : undefined;
  const brokerUrl = v.broker ?? embedded!.url;
  const brokerName = v.broker === undefined ? 'embedded aedes (in the bench process)' : v.broker;
  const fleet = 'bench';
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/fadnet.mjs'),
      'fleet',
      'dashboard',
      '--broker',
      brokerUrl,
      '--fleet',
      fleet,
      '--port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  const abort = new AbortController();
  try {
    const [first] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const url = /dashboard: (http:\/\/\S+)/.exec(first)?.[1];
    if (url === undefined) throw new Error(`the dashboard did not say where it listens: "${first}"`);
    const stats = async (drain: boolean): Promise<DashboardStats> =>
      (await (await fetch(new URL(`/api/stats${drain ? '?drain=1' : ''}`, url))).json()) as DashboardStats;
    const viewerDelays: number[] = [];
    const watching = viewer(url, viewerDelays, abort.signal);
    const start = Date.now();
    const memory: MemorySample[] = [];
    const sample = async (): Promise<void> => {
      const s = await stats(false);
      memory.push({
        s: Math.round((Date.now() - start) / 1000),
        rssMb: mb(s.rssBytes),
        heapMb: mb(s.heapUsedBytes),
      });
    };
    await sample();
    const sim = await startSimulatedFleet({
      url: brokerUrl,
      fleet,
      robots: Array.from({ length: robots }, (_, i) => ({
        id: `robot-${i + 1}`,
        modelVersion: 'fadnet-sim@1.1.0',
      })),
      log: () => {},
    });
    const simStart = Date.now();
    const delays: number[] = [];
    const bar = progressBar(
      'bench telemetry [{bar}] {value}/{total} s | {robots} robots | rss {rss} MB | records {records}',
    );
    bar.start(Math.round(seconds), 0, { robots, rss: '-', records: 0 });
    while (Date.now() - simStart < seconds * 1000) {
      await new Promise((r) =>
        setTimeout(r, Math.min(sampleEvery * 1000, simStart + seconds * 1000 - Date.now())),
      );
      const s = await stats(true);
      delays.push(...(s.delaysMs ?? []));
      memory.push({
        s: Math.round((Date.now() - start) / 1000),
        rssMb: mb(s.rssBytes),
        heapMb: mb(s.heapUsedBytes),
      });
      bar.update(Math.min(Math.round(seconds), Math.round((Date.now() - simStart) / 1000)), {
        rss: mb(s.rssBytes),
        records: sim.sent,
      });
    }
    bar.stop();
    const snapshot = (await (await fetch(new URL('/api/snapshot', url))).json()) as DashboardSnapshot;
    const now = Date.now();
    const online = snapshot.robots.filter((r) => r.online === true).length;
    const fresh = snapshot.robots.filter((r) => r.telemetry !== null && now - r.telemetry.at < 3000).length;
    const final = await stats(true);
    delays.push(...(final.delaysMs ?? []));
    await sim.stop();
    abort.abort();
    await watching;
    const afterStart =
      memory.find((m) => m.s >= (simStart - start) / 1000 + sampleEvery) ?? memory[1] ?? memory[0]!;
    const result = {
      robots,
      seconds,
      broker: brokerName,
      records_sent: sim.sent,
      records_received: delays.length,
      rejected: final.rejected,
      robots_online_at_end: online,
      robots_fresh_at_end: fresh,
      broker_to_dashboard_ms: summary(delays),
      broker_to_viewer_ms: summary(viewerDelays),
      viewers_dropped: final.viewersDropped,
      dashboard_memory: {
        idle: memory[0],
        first_sample_under_load: afterStart,
        end: memory[memory.length - 1],
        max_rss_mb: Math.max(...memory.map((m) => m.rssMb)),
        max_heap_mb: Math.max(...memory.map((m) => m.heapMb)),
        samples: memory,
      },
    };
    if (v.json) console.log(JSON.stringify(result));
    else {
      const d = result.broker_to_dashboard_ms;
      const w = result.broker_to_viewer_ms;
      console.log(
        [
          `telemetry: ${robots} robots at 1 Hz for ${seconds} s on ${brokerName}`,
          `  records       ${result.records_sent} sent, ${result.records_received} received by the dashboard, ${result.rejected} refused`,
          `  robots        ${online} online, ${fresh} with telemetry under 3 s old at the end`,
          `  to dashboard  p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms`,
          `  to viewer     p50 ${w.p50} ms, p99 ${w.p99} ms, max ${w.max} ms (${w.n} events)`,
          `  memory        rss ${memory[0]!.rssMb} MB idle, ${afterStart.rssMb} MB under load, ${result.dashboard_memory.end!.rssMb} MB at the end (max ${result.dashboard_memory.max_rss_mb}); heap ${afterStart.heapMb} -> ${result.dashboard_memory.end!.heapMb} MB`,
        ].join('\n'),
      );
    }
    return 0;
  } finally {
    abort.abort();
    child.kill('SIGTERM');
    await exited;
    await embedded?.close();
  }
}
