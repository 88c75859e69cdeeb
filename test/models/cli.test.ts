import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
