// The precision parts of `fadnet bench inference`: which package a precision runs, its error on
// the reference fixture, and ONNX Runtime's own per-operator profile (the evidence when a
// precision is slower than expected, rather than a guess).
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { loadModelPackage, readInputTensorFile, readWeightsFile } from '../src/files.ts';
import {
  calibrateActivations,
  exportPrecisionOnnx,
  precisionOf,
  type Precision,
  type PrecisionTarget,
} from '../src/quantize/index.ts';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURE = path.join(PROJECT_ROOT, 'test/fixtures/fadnet');

/** The shipped package of a precision: fadnet-sim, fadnet-sim-fp16, fadnet-sim-int8. */
export function shippedManifest(precision: Precision): string {
  const suffix = precision === 'fp32' ? '' : `-${precision}`;
  return path.join(PROJECT_ROOT, `models/shipped/fadnet-sim${suffix}.manifest.json`);
}

export async function benchPackage(
  precision: Precision,
  manifestPath = shippedManifest(precision),
): Promise<{ onnx: Uint8Array; label: string; precision: Precision }> {
  const { manifest, onnx } = await loadModelPackage(manifestPath);
  if (precisionOf(manifest) !== precision) {
    throw new Error(`${path.basename(manifestPath)} is ${precisionOf(manifest)}, not ${precision}`);
  }
  return { onnx, label: `${manifest.name}@${manifest.version}`, precision };
}

/**
 * Largest |output - reference| on the fixture for the fixture's weights exported at this
 * precision (int8 calibrated min-max on the fixture's own four inputs); undefined without it.
 */
export async function fixtureError(precision: Precision): Promise<number | undefined> {
  if (!existsSync(path.join(FIXTURE, 'weights.safetensors'))) return undefined;
  const weights = await readWeightsFile(path.join(FIXTURE, 'weights.safetensors'));
  const { data, n } = await readInputTensorFile(path.join(FIXTURE, 'inputs.f32'));
  const expected = new Float32Array((await readFile(path.join(FIXTURE, 'outputs.f32'))).buffer.slice(0));
  const target: PrecisionTarget =
    precision === 'int8'
      ? {
          kind: 'int8',
          ranges: await calibrateActivations(weights, data, { method: 'minmax' }),
          activations: 'uint8',
          calibration: { method: 'minmax', samples: n, data: ['fixture inputs'] },
        }
      : { kind: precision };
  const session = await ort.InferenceSession.create(exportPrecisionOnnx(weights, target).onnx);
  try {
    const out = (await session.run({ input: new ort.Tensor('float32', data, [n, 1, 200, 200]) }))['steering'];
    const got = out?.data as Float32Array;
    return Math.max(...Array.from(expected, (v, i) => Math.abs(v - got[i]!)));
  } finally {
    await session.release();
  }
}

const ProfileEvents = z.array(
  z
    .object({
      cat: z.string(),
      name: z.string(),
      dur: z.number(),
      args: z.object({ op_name: z.string().optional() }).loose().optional(),
    })
    .loose(),
);

/** ONNX Runtime's profile of `runs` batch-1 runs on one thread: microseconds per run by operator type. */
export async function profileByOperator(onnx: Uint8Array, runs: number): Promise<[string, number][]> {
  const prefix = path.join(os.tmpdir(), `fadnet-profile-${process.pid}`);
  const session = await ort.InferenceSession.create(onnx, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const x = new ort.Tensor('float32', new Float32Array(200 * 200).fill(0.1), [1, 1, 200, 200]);
  for (let i = 0; i < runs; i++) await session.run({ input: x });
  // endProfiling writes the file and (in the Node binding) returns nothing; find it by prefix.
  session.endProfiling();
  await session.release();
  const dir = path.dirname(prefix);
  const { readdir } = await import('node:fs/promises');
  const file = (await readdir(dir)).find((f) => f.startsWith(path.basename(prefix)));
  if (file === undefined) throw new Error('ONNX Runtime wrote no profile');
  const events = ProfileEvents.parse(JSON.parse(await readFile(path.join(dir, file), 'utf8')));
  await rm(path.join(dir, file), { force: true });
  const byOp = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? 'unknown';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  }
  return [...byOp]
    .map(([op, us]) => [op, Math.round(us / runs)] as [string, number])
    .sort((a, b) => b[1] - a[1]);
}
