// Latency from a /cmd_vel reaching the bridge to its WHEEL_CMD bytes handed to the OS (the
// serialport write callback), over a real pty (socat) with a simulated MCU on the far end.
// Prints p50/p99; run: node --import tsx firmware-bridge/bench.ts [--count N] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

import { numberArg, parseCommandArgs, percentile } from '../common/index.ts';
import { systemClock } from '../nodes/runtime/clock.ts';
import { DEFAULT_CONFIG } from './core/config.ts';
import { BridgeLink } from './link.ts';
import { PtyPair } from './pty-pair.ts';
import { SerialTransport } from './serial.ts';
import { SimulatedMcu } from './sim-mcu.ts';

export interface BenchResult {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export async function benchLatency(count: number): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-bench-'));
  const pair = new PtyPair(dir);
  await pair.plug();
  const mcuPort = new SerialTransport({ path: pair.mcuPath, baudRate: 115200, parity: 'none' });
  const mcu = new SimulatedMcu((bytes) => mcuPort.write(bytes));
  await mcuPort.open({ data: (c) => mcu.receive(c), closed: () => undefined });
  let started = Number.NaN;
  const samples: number[] = [];
  const link = new BridgeLink({
    config: DEFAULT_CONFIG,
    transport: new SerialTransport({ path: pair.bridgePath, baudRate: 115200, parity: 'none' }),
    clock: systemClock,
    onOutput: () => undefined,
    onWritten: (m) => {
      if (m.type === 'wheel-cmd' && !Number.isNaN(started)) {
        samples.push(performance.now() - started);
        started = Number.NaN;
      }
    },
  });
  try {
    link.start();
    for (let i = 0; i < 200 && link.state !== 'running'; i++) await sleep(10);
    if (link.state !== 'running') throw new Error(`bridge did not reach running: ${link.stats().reason}`);
    // 100 Hz /cmd_vel, twice the usual rate, each a new value so every one is sent.
    for (let i = 0; i < count; i++) {
      await sleep(10);
      started = performance.now();
      link.command(0.1 + (i % 50) * 0.01, 0);
    }
    await sleep(20);
  } finally {
    await link.stop('benchmark done');
    await mcuPort.close();
    await pair.unplug();
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

export async function benchCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    count: { type: 'string', default: '2000' },
  });
  if (parsed.help) return 0; // the dispatcher prints the bench's usage
  const count = numberArg('--count', parsed.values.count, { integer: true, min: 100 });
  const r = await benchLatency(count);
  if (parsed.values.json)
    console.log(JSON.stringify({ count: r.count, p50_ms: r.p50Ms, p99_ms: r.p99Ms, max_ms: r.maxMs }));
  else {
    const load = loadavg()[0]?.toFixed(1) ?? 'n/a';
    console.log(
      `cmd_vel -> WHEEL_CMD bytes written (pty, ${r.count} commands at 100 Hz, load average ${load})`,
    );
    console.log(
      `  p50 ${r.p50Ms.toFixed(3)} ms   p99 ${r.p99Ms.toFixed(3)} ms   max ${r.maxMs.toFixed(3)} ms`,
    );
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  process.exitCode = await benchCommand(process.argv.slice(2));
