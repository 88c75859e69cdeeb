// `fadnet bench silo-steering`: the steering node's frame -> /cmd_vel latency at 30 Hz, idle and
// then with a silo training beside it on the same machine, as on a robot: the silo is its own
// `fadnet silo` process at nice 19 with one replica, publishing each round's model to a real
// broker (mosquitto, on a loopback port). Its peer never answers and its timeout is 0, so it
// trains back to back: the heaviest load a silo puts on a robot.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { freeLoopbackPort, numberArg, parseCommandArgs } from '../../common/index.ts';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { exportFadnetOnnx } from '../../models/src/onnx/export.ts';
import { initialWeights } from '../../models/src/weights/weight-set.ts';
import { benchSteeringRate } from '../../nodes/bench.ts';
import type { SteeringRateResult } from '../../nodes/bench.ts';
import { addTrustedKey, writeSiloKeys } from '../exchange/index.ts';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
const MOSQUITTO = '/usr/sbin/mosquitto';

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Training {
  readonly child: ChildProcess;
  rounds: number;
  log: string;
}

function startTraining(args: readonly string[]): Training {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/fadnet.mjs'), 'silo', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const training: Training = { child, rounds: 0, log: '' };
  child.stdout!.on('data', (d: Buffer) => {
    training.rounds += (d.toString().match(/ round \d+:/g) ?? []).length;
  });
  child.stderr!.on('data', (d: Buffer) => (training.log += d.toString()));
  return training;
}

async function firstRound(training: Training, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (training.rounds === 0) {
    if (training.child.exitCode !== null)
      throw new Error(`the silo exited before training:\n${training.log}`);
    if (Date.now() > end)
      throw new Error(`the silo did not finish a round in ${timeoutMs} ms:\n${training.log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function benchSiloSteeringCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    nice: { type: 'string', default: '19' },
    batch: { type: 'string', default: '32' },
  });
  if (parsed.help) {
    console.log('usage: fadnet bench silo-steering [--seconds S] [--nice N] [--batch B] [--json]');
    return 0;
  }
  const ms = numberArg('--seconds', parsed.values.seconds, { above: 0 }) * 1000;
  const nice = numberArg('--nice', parsed.values.nice, { integer: true, min: 0, max: 19 });
  const batch = numberArg('--batch', parsed.values.batch, { integer: true, min: 1, max: 1024 });
  const say = parsed.values.json ? () => {} : (line: string) => console.error(line);
  // The robot's steering configuration: one intra-op thread on the CPU provider.
  const engine = await OnnxEngine.create({
    onnx: exportFadnetOnnx(initialWeights(1)),
    config: { warmupRuns: 50, intraOpThreads: 1 },
    log: say,
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-bench-silo-'));
  let broker: ChildProcess | undefined;
  let training: Training | undefined;
  try {
    say(`steering at 30 Hz, idle (${ms / 1000} s)`);
    const idle = await benchSteeringRate(30, ms, engine);
    const port = await freeLoopbackPort();
    broker = spawn(MOSQUITTO, ['-p', String(port)], { stdio: 'ignore' });
    const written = await writeSiloKeys('bench-a', dir);
    await addTrustedKey(
      path.join(dir, 'trusted.json'),
      'bench-a',
      await readFile(written.publicKeyPath, 'utf8'),
    );
    await new Promise((r) => setTimeout(r, 300)); // mosquitto's listener
    training = startTraining([
      ...[
        '--fleet',
        'bench',
        '--id',
        'bench-a',
        '--silos',
        'bench-a,bench-b',
        '--synthetic',
        String(batch * 2),
      ],
      ...['--batch', String(batch), '--broker', `mqtt://127.0.0.1:${port}`, '--dir', dir],
      ...['--timeout-ms', '0', '--nice', String(nice)],
    ]);
    say(`silo training at nice ${nice}, batch ${batch}: waiting for its first round`);
    await firstRound(training, 120_000);
    const before = training.rounds;
    const t0 = performance.now();
    say(`steering at 30 Hz, silo training beside it (${ms / 1000} s)`);
    const loaded = await benchSteeringRate(30, ms, engine);
    const roundsPerS = ((training.rounds - before) * 1000) / (performance.now() - t0);
    const result = {
      idle: pick(idle),
      with_silo: pick(loaded),
      p99_ratio: Math.round((loaded.p99_ms / idle.p99_ms) * 100) / 100,
      silo: { nice, batch, rounds_per_s: Math.round(roundsPerS * 100) / 100, local_steps_per_round: 1 },
    };
    if (parsed.values.json) console.log(JSON.stringify(result));
    else {
      console.log(
        `idle:       frame -> /cmd_vel p50 ${idle.p50_ms} ms  p99 ${idle.p99_ms} ms  (${idle.received} commands, ${idle.dropped} dropped)`,
      );
      console.log(
        `with silo:  frame -> /cmd_vel p50 ${loaded.p50_ms} ms  p99 ${loaded.p99_ms} ms  (${loaded.received} commands, ${loaded.dropped} dropped)`,
      );
      console.log(
        `p99 ratio ${result.p99_ratio} (limit 1.5); the silo trained ${result.silo.rounds_per_s} rounds/s (batch ${batch}, nice ${nice})`,
      );
    }
    return 0;
  } finally {
    if (training !== undefined) await stop(training.child);
    if (broker !== undefined) await stop(broker);
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

function pick(r: SteeringRateResult): { p50_ms: number; p99_ms: number; received: number; dropped: number } {
  return { p50_ms: r.p50_ms, p99_ms: r.p99_ms, received: r.received, dropped: r.dropped };
}
