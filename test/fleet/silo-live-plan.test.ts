// Three `fadnet silo` processes with no --broker and --live-plan: the first hosts the embedded
// broker, the other two find its port taken and join it. They measure their links over MQTT,
// agree on a plan, and every silo switches to it at the same round; the subscriptions follow.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { freeLoopbackPort } from '../../common/index.ts';
import { addTrustedKey, writeSiloKeys } from '../../fleet/exchange/index.ts';
import { until } from '../helpers/until.ts';

interface Run {
  readonly id: string;
  readonly child: ChildProcess;
  out: string;
  err: string;
  exited: boolean;
}

const IDS = ['lp-a', 'lp-b', 'lp-c'];
let dir: string;
let port: number;
const runs: Run[] = [];

function startSilo(id: string): Run {
  const child = spawn(
    process.execPath,
    [
      'bin/fadnet.mjs',
      'silo',
      ...['--fleet', 'live-plan-cli', '--id', id, '--synthetic', '4', '--batch', '2'],
      ...['--silos', IDS.join(','), '--listen', `127.0.0.1:${port}`, '--dir', dir],
      ...['--live-plan', '--probe-ms', '200', '--margin-rounds', '3', '--timeout-ms', '20000'],
      ...['--encoding', 'f16', '--nice', '0'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const run: Run = { id, child, out: '', err: '', exited: false };
  child.stdout!.on('data', (d: Buffer) => (run.out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.err += d.toString()));
  child.once('exit', () => (run.exited = true));
  runs.push(run);
  return run;
}

/** [round, plan] at each switch a silo logged. */
function switches(run: Run): [number, string][] {
  return [...run.err.matchAll(new RegExp(`^silo ${run.id} round (\\d+): plan (.+) in force$`, 'gm'))].map(
    (m) => [Number(m[1]), m[2]!],
  );
}

const lastRound = (run: Run): number =>
  Math.max(
    -1,
    ...[...run.out.matchAll(new RegExp(`^silo ${run.id} round (\\d+):`, 'gm'))].map((m) => Number(m[1])),
  );

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-silo-live-plan-'));
  port = await freeLoopbackPort();
  for (const id of IDS) {
    const written = await writeSiloKeys(id, dir);
    await addTrustedKey(path.join(dir, 'trusted.json'), id, await readFile(written.publicKeyPath, 'utf8'));
  }
});

afterAll(async () => {
  // The host last: the others use its broker.
  const stop = async (group: Run[]): Promise<void> => {
    for (const run of group) if (!run.exited) run.child.kill('SIGTERM');
    await until('silo processes to exit', () => group.every((r) => r.exited), 20_000).catch(() => {
      for (const run of group) if (!run.exited) run.child.kill('SIGKILL');
    });
  };
  await stop(runs.slice(1));
  await stop(runs.slice(0, 1));
  await rm(dir, { recursive: true, force: true });
});

describe('fadnet silo --live-plan without --broker', () => {
  it('hosts or joins the embedded broker, and every silo switches plans at the same round', async () => {
    const host = startSilo(IDS[0]!);
    await until(
      'the first silo to host the broker',
      () => /embedded MQTT broker/.test(host.err) || host.exited,
      60_000,
    );
    expect(host.err).toContain(`embedded MQTT broker (aedes) listening on mqtt://127.0.0.1:${port}`);
    const others = IDS.slice(1).map(startSilo);
    await until(
      'every silo to run under an agreed plan for 2 rounds',
      () =>
        runs.some((r) => r.exited) ||
        runs.every((r) => {
          const s = switches(r).at(-1);
          return s !== undefined && s[1] !== 'initial' && lastRound(r) >= s[0] + 2;
        }),
      150_000,
    );
    for (const r of runs) expect(r.exited, `${r.id} exited:\n${r.err}`).toBe(false);
    for (const r of others) {
      expect(r.err).toContain(
        `port ${port} is taken: using the broker already listening on mqtt://127.0.0.1:${port}`,
      );
      expect(r.err).toContain(`broker mqtt://127.0.0.1:${port}, plan live (from measured links)`);
    }
    // The same plans at the same rounds on every silo (a silo that joined later has its first
    // rounds from the fleet's round, so compare from the first agreed plan on).
    const agreed = (r: Run): [number, string][] => switches(r).filter(([, plan]) => plan !== 'initial');
    const first = agreed(host);
    expect(first.length).toBeGreaterThan(0);
    expect(first[0]![1]).toMatch(/^epoch 1 \([0-9a-f]{12}\)$/);
    for (const r of others) expect(agreed(r), r.id).toEqual(first);
    for (const r of runs)
      expect(r.err, r.id).not.toMatch(/refused|could not subscribe|unreachable|EPIPE|Error/);
  }, 240_000);
});
