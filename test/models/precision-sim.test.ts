// The shipped int8 package against float32 on held-out simulator data: steering RMSE on the eval
// world within 2% relative of float32's, and three laps of the eval world driven by the int8
// model through the robot's steering node with no collision and no intervention.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { loadModelPackage, readWeightsFile } from '../../models/src/files.ts';
import { precisionOf } from '../../models/src/quantize/index.ts';
import { rmse } from '../../models/bench/precision.ts';
import { runClosedLoop } from '../../sim/loop/closed-loop.ts';
import { heldOutWorld, SHIPPED_MANIFEST } from '../../sim/loop/cli.ts';
import { SimDataset } from '../../sim/loop/dataset.ts';
import { loadWorld } from '../../sim/world/load.ts';

const INT8_MANIFEST = 'models/shipped/fadnet-sim-int8.manifest.json';
const FP16_MANIFEST = 'models/shipped/fadnet-sim-fp16.manifest.json';
const FRAME_VALUES = 200 * 200;

async function predict(manifestPath: string, frames: Float32Array): Promise<Float32Array> {
  const { onnx } = await loadModelPackage(manifestPath);
  const engine = await OnnxEngine.create({ onnx, config: { warmupRuns: 0 }, log: () => {} });
  const n = frames.length / FRAME_VALUES;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 32) {
    const k = Math.min(32, n - i);
    out.set(await engine.run(frames.subarray(i * FRAME_VALUES, (i + k) * FRAME_VALUES), k), i);
  }
  await engine.dispose();
  return out;
}

describe('shipped precision packages on held-out simulator data', () => {
  it('fp16 and int8 packages are what their manifests say, made from the fp32 model by a recorded command', async () => {
    const fp32 = (await loadModelPackage(SHIPPED_MANIFEST)).manifest;
    const fp32Weights = await readWeightsFile(path.join('models/shipped', fp32.weights!.file));
    for (const [file, kind, command] of [
      [
        FP16_MANIFEST,
        'fp16',
        /^fadnet export --weights models\/shipped\/fadnet-sim\.safetensors .*--precision fp16/,
      ],
      [INT8_MANIFEST, 'int8', /^fadnet quantize --model models\/shipped\S* --calibrate --sim-worlds /],
    ] as const) {
      const { manifest } = await loadModelPackage(file);
      expect(precisionOf(manifest)).toBe(kind);
      expect(manifest.version).toBe(fp32.version);
      // The same weights (the files differ only in their name metadata).
      const own = await readWeightsFile(path.join('models/shipped', manifest.weights!.file));
      for (const [name, values] of fp32Weights) expect(own.get(name), name).toEqual(values);
      expect(manifest.provenance.command).toMatch(command);
      // Calibration never sees the held-out world.
      expect(manifest.provenance.command).not.toContain(heldOutWorld());
    }
  });

  it(
    'int8 steering RMSE on the eval world is within 2% relative of fp32, fp16 within 0.1%',
    { timeout: 600_000 },
    async () => {
      const n = 400;
      const data = SimDataset.generate({
        worlds: [loadWorld(heldOutWorld())],
        samplesPerWorld: n,
        seed: 101,
        inputSpec: (await loadModelPackage(SHIPPED_MANIFEST)).manifest.input,
      });
      const frames = new Float32Array(n * FRAME_VALUES);
      const labels = new Float32Array(n);
      await data.read(
        Array.from({ length: n }, (_, i) => i),
        frames,
        labels,
      );
      const fp32 = rmse(await predict(SHIPPED_MANIFEST, frames), labels);
      const fp16 = rmse(await predict(FP16_MANIFEST, frames), labels);
      const int8 = rmse(await predict(INT8_MANIFEST, frames), labels);
      expect(fp32).toBeGreaterThan(0.01); // a real error, so the ratios below mean something
      expect(Math.abs(fp16 / fp32 - 1)).toBeLessThan(0.001);
      expect(Math.abs(int8 / fp32 - 1)).toBeLessThan(0.02);
    },
  );

  it(
    'the int8 package drives 3 laps of the held-out world with no collision and no intervention',
    { timeout: 900_000 },
    async () => {
      const result = await runClosedLoop({
        world: loadWorld(heldOutWorld()),
        laps: 3,
        seed: 1,
        driver: 'model',
        manifestPath: path.resolve(INT8_MANIFEST),
      });
      expect(result.laps_completed).toBe(3);
      expect(result.collisions).toBe(0);
      expect(result.interventions).toBe(0);
    },
  );
});
