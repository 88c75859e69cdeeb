// `fadnet fleet sim` end to end, small: three real silo processes on three simulator worlds,
// three rounds, the embedded broker. The JSON line must carry the run's figures, and its RMSE
// must be the held-out world's: the saved average model, evaluated here on the held-out world
// built the same way, gives the same number, and a training world gives another.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { rmseOf } from '../../fleet/sim/index.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { weightsFromSafetensors } from '../../models/src/weights/weight-set.ts';
import { simWorldDataset } from '../../bin/silo-sim.ts';
import { listWorlds } from '../../sim/world/load.ts';

const FADNET = fileURLToPath(new URL('../../bin/fadnet.mjs', import.meta.url));
const EVAL_SAMPLES = 6;

const resultSchema = z.object({
  silos: z.literal(3),
  topology: z.literal('ring'),
  rounds: z.literal(3),
  encoding: z.literal('int8'),
  final_rmse: z.number().positive(),
  wall_s: z.number().positive(),
  wall_per_round_s: z.number().positive(),
  bytes_per_exchange: z.number().int().positive(),
  bytes_sent_per_silo: z.array(z.number().int()).length(3),
  eval_world: z.string(),
  eval_samples: z.number().int(),
  curve: z.array(z.object({ round: z.number(), wallS: z.number(), rmse: z.number() })),
  png: z.string(),
});

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-fleet-sim-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FADNET, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('fadnet fleet sim', () => {
  it('runs three silo processes and reports the held-out RMSE of their average model as one JSON line', async () => {
    const average = path.join(dir, 'average.safetensors');
    const png = path.join(dir, 'sim.png');
    const r = await run([
      'fleet',
      'sim',
      ...['--silos', '3', '--topology', 'ring', '--rounds', '3', '--encoding', 'int8'],
      ...['--samples', '4', '--eval-samples', String(EVAL_SAMPLES), '--batch', '4', '--eval-every', '2'],
      ...['--json', '--png', png, '--save-average', average],
    ]);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = resultSchema.parse(JSON.parse(lines[0]!));

    const worlds = listWorlds();
    const heldOut = worlds.find((w) => w.heldOut)!.name;
    expect(result.eval_world).toBe(heldOut);
    expect(result.eval_samples).toBe(2 * EVAL_SAMPLES); // mirrored copies
    expect(result.curve.map((p) => p.round)).toEqual([2, 3]);
    expect(result.curve.at(-1)!.rmse).toBe(result.final_rmse);
    expect(result.wall_per_round_s).toBeCloseTo(result.wall_s / 3, 9);
    // Every silo published its model every round, each at least one update's bytes.
    for (const sent of result.bytes_sent_per_silo)
      expect(sent).toBeGreaterThanOrEqual(3 * result.bytes_per_exchange);
    // The progress lines went to stderr, every silo's training world named in the silo logs' plan.
    expect(r.err).toMatch(/round 3\/3: held-out RMSE/);

    await initTfjs({ log: () => {} });
    const weights = weightsFromSafetensors(new Uint8Array(await readFile(average)));
    // The held-out set as the simulation builds it (seed 1000 + --seed).
    const held = await simWorldDataset(heldOut, EVAL_SAMPLES, 1000);
    expect(await rmseOf(weights, held)).toBeCloseTo(result.final_rmse, 6);
    const training = worlds.find((w) => !w.heldOut)!.name;
    const other = await rmseOf(weights, await simWorldDataset(training, EVAL_SAMPLES, 1000));
    expect(Math.abs(other - result.final_rmse)).toBeGreaterThan(1e-4);

    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 960, 400]);
  }, 300_000);

  it('refuses a topology it does not know, naming the choices', async () => {
    const r = await run(['fleet', 'sim', '--topology', 'mesh']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--topology must be one of star, ring, mst, multigraph, got "mesh"');
  });
});
