// Real silo processes for the fault tests: `fadnet silo` on tiny synthetic data (u = 1, batch
// 4), keys and trusted list written into a temporary state folder, each process's stdout
// (one line per round) and stderr (exchange events) kept for the assertions. Every process a
// test starts is killed by stopAll.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { addTrustedKey, publicKeyPem, writeSiloKeys } from '../../fleet/exchange/index.ts';

const FADNET = fileURLToPath(new URL('../../bin/fadnet.mjs', import.meta.url));

export interface SiloRun {
  readonly id: string;
  readonly child: ChildProcess;
  out: string;
  err: string;
  exit: { code: number | null; signal: string | null } | undefined;
  readonly exited: Promise<void>;
}

export interface SiloFleet {
  readonly dir: string;
  readonly ids: readonly string[];
  readonly fleet: string;
  start(id: string, options: { rounds: number; timeoutMs: number; broker: string }): SiloRun;
  stopAll(): Promise<void>;
}

/** A state folder with keys for `ids`; silos follow the default ring over the sorted ids. */
export async function siloFleet(fleet: string, ids: readonly string[]): Promise<SiloFleet> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-faults-'));
  for (const id of ids) {
    const written = await writeSiloKeys(id, dir);
    await addTrustedKey(path.join(dir, 'trusted.json'), id, publicKeyPem(written.keys.publicKey));
  }
  const runs: SiloRun[] = [];
  return {
    dir,
    ids,
    fleet,
    start: (id, o) => {
      const child = spawn(
        process.execPath,
        [
          FADNET,
          'silo',
          ...['--fleet', fleet, '--id', id, '--silos', ids.join(','), '--synthetic', '8'],
          ...['--batch', '4', '--rounds', String(o.rounds), '--timeout-ms', String(o.timeoutMs)],
          ...['--broker', o.broker, '--dir', dir, '--encoding', 'f16'],
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const run: SiloRun = {
        id,
        child,
        out: '',
        err: '',
        exit: undefined,
        exited: new Promise((resolve) =>
          child.once('exit', (code, signal) => {
            run.exit = { code, signal };
            resolve();
          }),
        ),
      };
      child.stdout!.on('data', (d: Buffer) => (run.out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (run.err += d.toString()));
      runs.push(run);
      return run;
    },
    stopAll: async () => {
      for (const r of runs) if (r.exit === undefined) r.child.kill('SIGKILL');
      await Promise.all(runs.map((r) => r.exited));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RoundLine {
  readonly round: number;
  /** Peer models mixed in, as `peer@round`. */
  readonly mixed: readonly string[];
  readonly timedOut: readonly string[];
}

/** The round lines a silo printed (fleet/silo/run.ts roundLine), in order. */
export function roundLines(out: string): RoundLine[] {
  const lines: RoundLine[] = [];
  for (const m of out.matchAll(/^silo \S+ round (\d+): (.*)$/gm)) {
    const rest = m[2]!;
    const mixed = /^mixed (.*?) \(own/.exec(rest)?.[1];
    const timedOut = /timed out: ([^;]*);/.exec(rest)?.[1];
    lines.push({
      round: Number(m[1]),
      mixed: mixed === undefined ? [] : mixed.split(', ').map((p) => p.split(' x')[0]!),
      timedOut: timedOut === undefined ? [] : timedOut.split(', '),
    });
  }
  return lines;
}

/** The newest round a silo has finished, or -1. */
export const lastRound = (run: SiloRun): number => roundLines(run.out).at(-1)?.round ?? -1;
