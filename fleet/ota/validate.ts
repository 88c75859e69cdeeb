// Validation of a staged model before it may drive: it loads in ONNX Runtime with the robot's
// execution providers, gives the golden outputs within the release's tolerance, and runs within
// its latency budget. An adapter (ONNX Runtime, files); the judgement is in the checks below.
import { percentile } from '../../common/index.ts';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import type { EngineConfigInput } from '../../models/src/engine/engine.ts';
import { loadModelPackage } from '../../models/src/files.ts';
import { BundleFormatError, GoldenMismatchError, LatencyBudgetError, ModelLoadError } from './errors.ts';
import type { Release } from './release.ts';

export interface ValidationOptions {
  readonly engine: EngineConfigInput;
  /** Timed runs over the golden inputs for the latency figure (after warm-up). */
  readonly latencyRuns?: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export interface ValidationResult {
  readonly maxError: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Load and warm-up, ms. */
  readonly loadMs: number;
  readonly description: string;
}

/** Reads golden inputs: N frames of `frameValues` little-endian float32 values. */
export function goldenFrames(bytes: Uint8Array, frameValues: number, count: number): Float32Array[] {
  if (bytes.byteLength !== frameValues * count * 4) {
    throw new BundleFormatError(
      `golden inputs hold ${bytes.byteLength} bytes, not ${count} frames of ${frameValues} float32 values`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Float32Array[] = [];
  for (let k = 0; k < count; k++) {
    const f = new Float32Array(frameValues);
    for (let i = 0; i < frameValues; i++) f[i] = view.getFloat32((k * frameValues + i) * 4, true);
    out.push(f);
  }
  return out;
}

/** Validates the package at `manifestPath` against `release`; throws the rejection that says why not. */
export async function validateModel(
  manifestPath: string,
  release: Release,
  golden: Uint8Array,
  o: ValidationOptions,
): Promise<ValidationResult> {
  const now = o.now ?? (() => performance.now());
  const start = now();
  let engine: OnnxEngine;
  try {
    const model = await loadModelPackage(manifestPath);
    engine = await OnnxEngine.create({
      onnx: model.onnx,
      input: model.manifest.input,
      inputName: model.manifest.onnx.inputName,
      outputName: model.manifest.onnx.outputName,
      config: { warmupRuns: 3, ...o.engine },
      log: o.log ?? (() => {}),
    });
  } catch (error) {
    throw new ModelLoadError(release.version, { cause: error });
  }
  const loadMs = now() - start;
  try {
    const frames = goldenFrames(
      golden,
      engine.input.height * engine.input.width,
      release.golden.expected.length,
    );
    let maxError = 0;
    for (let i = 0; i < frames.length; i++) {
      const actual = await engine.runOne(frames[i]!);
      const expected = release.golden.expected[i]!;
      const error = Math.abs(actual - expected);
      if (!(error <= release.golden.tolerance))
        throw new GoldenMismatchError(release.version, i, expected, actual, release.golden.tolerance);
      maxError = Math.max(maxError, error);
    }
    const runs = o.latencyRuns ?? 30;
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = now();
      await engine.runOne(frames[r % frames.length]!);
      times.push(now() - t0);
    }
    times.sort((a, b) => a - b);
    const p99Ms = percentile(times, 0.99);
    if (p99Ms > release.latencyBudgetMs)
      throw new LatencyBudgetError(release.version, p99Ms, release.latencyBudgetMs);
    return { maxError, p50Ms: percentile(times, 0.5), p99Ms, loadMs, description: engine.description };
  } finally {
    await engine.dispose();
  }
}
