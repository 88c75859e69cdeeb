import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixtureFile, loadFixture } from '../helpers/fixture.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/fadnet.mjs');

describe('fadnet infer', () => {
  for (const engine of ['onnx', 'tfjs']) {
    it(`prints one JSON line with the fixture outputs (--engine ${engine})`, async () => {
      const { stdout } = await run(process.execPath, [
        CLI,
        'infer',
        '--weights',
        fixtureFile('weights.safetensors'),
        '--tensor',
        fixtureFile('inputs.f32'),
        '--engine',
        engine,
        '--json',
      ]);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      const { outputs } = JSON.parse(lines[0]!) as { outputs: number[] };
      const expected = loadFixture().outputs;
      expect(outputs).toHaveLength(4);
      outputs.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(2e-5));
    });
  }

  it('exits non-zero with a clear message on a tensor file of the wrong size', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-cli-'));
    const bad = path.join(dir, 'bad.f32');
    await writeFile(bad, new Uint8Array(1000));
    const failure = await run(process.execPath, [
      CLI,
      'infer',
      '--weights',
      fixtureFile('weights.safetensors'),
      '--tensor',
      bad,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain(
      'fadnet infer: bad.f32 has 1000 bytes, not a multiple of 160000 (one 1 x 200 x 200 float32 image)',
    );
    await rm(dir, { recursive: true, force: true });
  });
});

async function failing(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  return run(process.execPath, [CLI, ...args], { timeout: 120_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stderr: string; stdout: string }) => e,
  );
}

describe('fadnet export', () => {
  const weights = fixtureFile('weights.safetensors');

  it('refuses a --name that is a path, writing nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-export-'));
    const out = path.join(dir, 'a', 'b');
    const r = await failing(['export', '--weights', weights, '--out', out, '--name', '../../x']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'fadnet export: --name must be a plain file name (letters, digits, ".", "_" and "-"; no "/" and not "." or ".."), got "../../x" (fadnet export --help shows the usage)',
    );
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a --version the manifest schema would reject, writing nothing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-export-'));
    const r = await failing(['export', '--weights', weights, '--out', dir, '--version', 'banana']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'fadnet export: --version must be a semantic version such as 1.2.0, got "banana" (fadnet export --help shows the usage)',
    );
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('fails at once for an --out under /proc, where a recursive mkdir never returns', async () => {
    const r = await failing(['export', '--weights', weights, '--out', '/proc/fadnet-export/out']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^fadnet export: cannot create directory \/proc\/fadnet-export: ENOENT: no such file or directory/,
    );
  });
});

describe('fadnet train', () => {
  const small = ['--synthetic', '32', '--batch', '8', '--replicas', '1', '--name', 'm'];

  it('refuses --resume when there is no checkpoint, naming the path', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-train-cli-'));
    const r = await failing(['train', ...small, '--steps', '2', '--out', dir, '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `fadnet train: --resume: there is no checkpoint ${path.join(dir, 'm.checkpoint.safetensors')} (leave out --resume to start from step 0) (fadnet train --help shows the usage)`,
    );
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('checkpoints every --checkpoint-every steps, then resumes from the checkpoint', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fadnet-train-cli-'));
    const first = await failing(['train', ...small, '--steps', '2', '--checkpoint-every', '1', '--out', dir]);
    expect(first.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([
      'm.checkpoint.safetensors',
      'm.manifest.json',
      'm.onnx',
      'm.safetensors',
    ]);
    const again = await failing(['train', ...small, '--steps', '3', '--out', dir, '--resume']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`resuming from step 2 (${path.join(dir, 'm.checkpoint.safetensors')})`);
    const fresh = await failing(['train', ...small, '--steps', '1', '--out', dir]);
    expect(fresh.stderr).toContain('starting from step 0; the checkpoint');
    await rm(dir, { recursive: true, force: true });
  }, 240_000);
});
