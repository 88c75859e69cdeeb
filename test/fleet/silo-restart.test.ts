// Two `fadnet silo` processes on the embedded broker. One is killed with SIGKILL mid-run: its
// checkpoint must still read, and restarted it resumes from it and rejoins at the fleet's round,
// which its peer carried on to meanwhile (mixing without it after each timeout).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addTrustedKey, startEmbeddedBroker, writeSiloKeys } from '../../fleet/exchange/index.ts';
import type { EmbeddedBroker } from '../../fleet/exchange/index.ts';
import { FileCheckpointStore } from '../../fleet/silo/index.ts';
import { until } from '../helpers/until.ts';

interface Run {
  readonly child: ChildProcess;
  out: string;
  err: string;
  exited: boolean;
}

let broker: EmbeddedBroker;
let dir: string;
const runs: Run[] = [];

function startSilo(id: string): Run {
  const child = spawn(
    process.execPath,
    [
      'bin/fadnet.mjs',
      'silo',
      ...['--fleet', 'restart-test', '--id', id, '--synthetic', '4', '--batch', '2'],
      ...['--silos', 'rb-a,rb-b', '--broker', broker.url, '--dir', dir, '--timeout-ms', '1500'],
      ...['--encoding', 'f32'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const run: Run = { child, out: '', err: '', exited: false };
  child.stdout!.on('data', (d: Buffer) => (run.out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.err += d.toString()));
  child.once('exit', () => (run.exited = true));
  runs.push(run);
  return run;
}

/** Rounds a silo has finished, from its round lines. */
function rounds(run: Run, id: string): number[] {
  return [...run.out.matchAll(new RegExp(`^silo ${id} round (\\d+):`, 'gm'))].map((m) => Number(m[1]));
}

beforeAll(async () => {
  broker = await startEmbeddedBroker();
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-silo-restart-'));
  for (const id of ['rb-a', 'rb-b']) {
    const written = await writeSiloKeys(id, dir);
    await addTrustedKey(path.join(dir, 'trusted.json'), id, await readFile(written.publicKeyPath, 'utf8'));
  }
});

afterAll(async () => {
  for (const run of runs) if (!run.exited) run.child.kill('SIGKILL');
  await until('every silo process to exit', () => runs.every((r) => r.exited), 10_000);
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a silo killed with SIGKILL', () => {
  it('resumes from its last checkpoint and rejoins at the fleet round', async () => {
    const b = startSilo('rb-b');
    const a = startSilo('rb-a');
    const store = new FileCheckpointStore(path.join(dir, 'rb-a.checkpoint.safetensors'), {
      silo: 'rb-a',
      fleet: 'restart-test',
    });
    await until('rb-a to finish round 2', () => rounds(a, 'rb-a').includes(2) || a.exited, 60_000);
    expect(a.err).not.toMatch(/Error/);
    // Both mixed with each other: every round so far had the peer's model.
    expect(a.out).toMatch(/^silo rb-a round 1: mixed rb-b@1 x0\.300 \(own x0\.700\)/m);

    a.child.kill('SIGKILL');
    await until('rb-a to die', () => a.exited, 5000);
    const saved = await store.load(); // a kill at any moment leaves a whole checkpoint
    expect(saved).toBeDefined();
    const resumedFrom = saved!.round;
    expect(resumedFrom).toBeGreaterThanOrEqual(3);

    // rb-b carries on alone, mixing without rb-a after each timeout, and logs why.
    await until('rb-b to run ahead', () => rounds(b, 'rb-b').some((r) => r >= resumedFrom + 1), 30_000);
    expect(b.err).toMatch(/no model within 1500 ms from rb-a \(round \d+\); mixing without/);
    expect(b.out).toMatch(/timed out: rb-a/);
    const fleetAtLeast = Math.max(...rounds(b, 'rb-b'));

    const again = startSilo('rb-a');
    await until(
      'the restarted rb-a to finish a round',
      () => rounds(again, 'rb-a').length > 0 || again.exited,
      60_000,
    );
    const start = /checkpoint at round (\d+), fleet at round (\d+); starting at round (\d+)/.exec(again.err);
    expect(start, again.err).not.toBeNull();
    const [, checkpointRound, fleetRound, startRound] = start!.map(Number);
    expect(checkpointRound).toBe(resumedFrom);
    expect(fleetRound).toBeGreaterThanOrEqual(fleetAtLeast);
    expect(startRound).toBe(fleetRound);
    expect(startRound).toBeGreaterThan(resumedFrom);
    expect(rounds(again, 'rb-a')[0]).toBe(startRound);

    for (const run of [again, b]) run.child.kill('SIGTERM');
    await until('both silos to stop on SIGTERM', () => again.exited && b.exited, 20_000);
  }, 150_000);
});
