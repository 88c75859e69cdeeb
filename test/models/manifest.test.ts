import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestError } from '../../models/src/errors.ts';
import { loadModelPackage, writeModelPackage } from '../../models/src/files.ts';
import { parseManifest } from '../../models/src/manifest.ts';
import { weightsFromSafetensors } from '../../models/src/weights/weight-set.ts';
import { loadFixture } from '../helpers/fixture.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-manifest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model package and manifest', () => {
  it('writes ONNX, weights and a manifest whose sha256 and input spec check out', async () => {
    const weights = weightsFromSafetensors(loadFixture().weightsBytes);
    const { manifestPath, manifest } = await writeModelPackage({
      dir,
      name: 'fixture',
      version: '1.0.0',
      weights,
      provenance: { data: ['reference fixture'], rounds: 0, date: '2026-01-01T00:00:00.000Z' },
    });
    expect(manifest.input).toEqual({
      layout: 'NCHW',
      width: 200,
      height: 200,
      colour: { kind: 'grey', weights: [0.299, 0.587, 0.114] },
      resize: { width: 320, height: 240, interpolation: 'bilinear' },
      crop: { kind: 'center', width: 200, height: 200 },
      scaling: { scale: 1 / 127.5, offset: -1 },
    });
    expect((await readdir(dir)).sort()).toEqual([
      'fixture.manifest.json',
      'fixture.onnx',
      'fixture.safetensors',
    ]);
    const loaded = await loadModelPackage(manifestPath);
    expect(loaded.manifest).toEqual(manifest);
    expect(loaded.onnx.byteLength).toBe(manifest.onnx.bytes);
  });

  it('refuses ONNX bytes that do not match the manifest', async () => {
    const onnxPath = path.join(dir, 'fixture.onnx');
    const bytes = await readFile(onnxPath);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x01;
    await writeFile(onnxPath, bytes);
    await expect(loadModelPackage(path.join(dir, 'fixture.manifest.json'))).rejects.toThrow(
      /^model fixture@1\.0\.0: ONNX sha256 is [0-9a-f]{64}, manifest says [0-9a-f]{64}$/,
    );
  });

  it('names every invalid field', () => {
    try {
      parseManifest({ schema: 'fadnet-edge/model-manifest@1', name: '', version: 'one' }, 'm.json');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ManifestError);
      const message = (error as Error).message;
      expect(message).toMatch(/^m\.json is not a valid model manifest: /);
      expect(message).toContain('name: ');
      expect(message).toContain('version: a semantic version such as 1.2.0');
      expect(message).toContain('onnx: ');
      expect(message).toContain('input: ');
    }
  });
});
