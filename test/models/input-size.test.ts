// The model's input size comes from its package's input spec: a package for another size
// FADNet can take (198 x 198 here) exports, loads and runs end to end in ONNX Runtime and TF.js
// with parity; a package whose ONNX input disagrees with its spec is refused naming both; a size
// FADNet cannot take (160 x 160: x4 is 5 wide, fc is Linear(7 -> 7)) is refused saying why.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { TfjsEngine } from '../../models/src/engine/tfjs-engine.ts';
import { InputSizeError, ManifestError, OnnxExportError } from '../../models/src/errors.ts';
import { fadnetGeometry } from '../../models/src/fadnet/geometry.ts';
import { loadModelPackage, writeModelPackage } from '../../models/src/files.ts';
import { FADNET_INPUT_SPEC, type InputSpec } from '../../models/src/input-spec.ts';
import { sha256Hex } from '../../models/src/manifest.ts';
import { exportFadnetOnnx } from '../../models/src/onnx/export.ts';
import { weightsFromSafetensors } from '../../models/src/weights/weight-set.ts';
import { seeded } from '../helpers/data.ts';
import { loadFixture } from '../helpers/fixture.ts';

const spec198: InputSpec = {
  ...FADNET_INPUT_SPEC,
  width: 198,
  height: 198,
  crop: { kind: 'center', width: 198, height: 198 },
};
const provenance = { data: ['fixture'], rounds: 0, date: '2026-01-01T00:00:00.000Z' };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fadnet-input-size-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('input size from the input spec', () => {
  const weights = weightsFromSafetensors(loadFixture().weightsBytes);

  it('a 198 x 198 package exports, loads and runs in ONNX Runtime and TF.js with parity', async () => {
    const { manifestPath } = await writeModelPackage({
      dir,
      name: 'fadnet-198',
      version: '1.0.0',
      weights,
      provenance,
      input: spec198,
    });
    const loaded = await loadModelPackage(manifestPath);
    expect(loaded.manifest.input).toEqual(spec198);
    const onnx = await OnnxEngine.create({
      onnx: loaded.onnx,
      input: loaded.manifest.input,
      config: { warmupRuns: 1 },
      log: () => {},
    });
    const tfjs = await TfjsEngine.create({ weights, input: loaded.manifest.input, log: () => {} });
    try {
      expect(onnx.input).toEqual({ height: 198, width: 198 });
      expect(tfjs.input).toEqual({ height: 198, width: 198 });
      const n = 3;
      const batch = seeded(n * 198 * 198, 11);
      const a = await onnx.run(batch, n);
      const b = await tfjs.run(batch, n);
      expect(a.length).toBe(n);
      for (let i = 0; i < n; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(2e-5);
      // Different images give different outputs: the comparison is not of constants.
      expect(new Set(Array.from(a)).size).toBe(n);
      expect(await onnx.runOne(batch.subarray(0, 198 * 198))).toBeCloseTo(a[0]!, 6);
      // A 200 x 200 frame is not this model's.
      await expect(onnx.runOne(new Float32Array(200 * 200))).rejects.toThrow(
        'frame has 40000 values, expected 39204',
      );
      await expect(tfjs.run(new Float32Array(200 * 200), 1)).rejects.toThrow(
        'batch of 40000 values is not 1 x 1 x 198 x 198',
      );
    } finally {
      await onnx.dispose();
      await tfjs.dispose();
    }
  }, 60_000);

  it('refuses a package whose ONNX input disagrees with its input spec, naming both', async () => {
    const { manifestPath, manifest } = await writeModelPackage({
      dir,
      name: 'fadnet-mismatch',
      version: '1.0.0',
      weights,
      provenance,
    });
    // The manifest says 198 x 198; the ONNX beside it (with matching hash) takes 200 x 200.
    const tampered = { ...manifest, input: spec198 };
    await writeFile(manifestPath, JSON.stringify(tampered));
    const loaded = await loadModelPackage(manifestPath);
    expect(sha256Hex(loaded.onnx)).toBe(manifest.onnx.sha256);
    const start = OnnxEngine.create({ onnx: loaded.onnx, input: loaded.manifest.input, log: () => {} });
    await expect(start).rejects.toThrow(ManifestError);
    await expect(
      OnnxEngine.create({ onnx: loaded.onnx, input: loaded.manifest.input, log: () => {} }),
    ).rejects.toThrow('ONNX input input has shape [N, 1, 200, 200] but the input spec says 1 x 198 x 198');
    expect(JSON.parse(await readFile(manifestPath, 'utf8')).input.width).toBe(198);
  });

  it('refuses a size FADNet cannot take, saying why', async () => {
    const size = { height: 160, width: 160 };
    expect(() => fadnetGeometry(size)).toThrow(InputSizeError);
    expect(() => fadnetGeometry(size)).toThrow(
      "input 160x160 gives x4 5x5, but fc is Linear(7 -> 7) over x4's width (widths 197-200 give 7)",
    );
    expect(() => exportFadnetOnnx(weights, { input: size })).toThrow(OnnxExportError);
    await expect(TfjsEngine.create({ weights, input: size, log: () => {} })).rejects.toThrow(
      'input 160x160 gives x4 5x5',
    );
    // A height that breaks the support branches' match with x4 is named too.
    expect(() => fadnetGeometry({ height: 120, width: 200 })).toThrow(
      'input 120x200 gives conv2_support 5x7 (4480 pair means) but x4 4x7 (3584 features); the two must match',
    );
    expect(fadnetGeometry({ height: 104, width: 200 }).features).toBe(3584);
    expect(fadnetGeometry({ height: 200, width: 200 }).features).toBe(6272);
  });
});
