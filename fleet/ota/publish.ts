// Making and publishing a release from an exported model package (`fadnet ota publish`): the
// package and its golden inputs in one bundle, the golden outputs computed here with ONNX
// Runtime on the CPU, the manifest signed with the publisher's Ed25519 key.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { Rng } from '../../common/index.ts';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { parseManifestText, verifyOnnxBytes, type ModelManifest } from '../../models/src/manifest.ts';
import { encodeBundle, GOLDEN_FILE, type BundleFile } from './bundle.ts';
import { MqttOtaPublisher } from './mqtt-link.ts';
import {
  describeArtifact,
  signRelease,
  splitArtifact,
  type Release,
  type UnsignedRelease,
} from './release.ts';

export const DEFAULT_CHUNK_BYTES = 64 * 1024;
export const DEFAULT_GOLDEN_COUNT = 8;
/** Golden outputs are computed on the CPU in float32; another provider or a float16 path may differ by this much. */
export const DEFAULT_TOLERANCE = 1e-3;
export const DEFAULT_LATENCY_BUDGET_MS = 50;
export const DEFAULT_PROBATION = { seconds: 10, maxJitter: 0.5 } as const;

export interface PackageFiles {
  readonly manifest: ModelManifest;
  readonly manifestBytes: Uint8Array;
  readonly onnx: Uint8Array;
  readonly weights: Uint8Array | undefined;
}

/** A package's files from its manifest, or from the one manifest in a folder. */
export async function readPackageFiles(model: string): Promise<PackageFiles> {
  let manifestPath = model;
  if (!model.endsWith('.manifest.json')) {
    const found = (await readdir(model)).filter((f) => f.endsWith('.manifest.json'));
    if (found.length !== 1)
      throw new RangeError(
        `${model} holds ${found.length === 0 ? 'no manifest' : `${found.length} manifests (${found.join(', ')})`}: give the manifest's path`,
      );
    manifestPath = path.join(model, found[0]!);
  }
  const manifestBytes = new Uint8Array(await readFile(manifestPath));
  const manifest = parseManifestText(new TextDecoder().decode(manifestBytes), path.basename(manifestPath));
  const dir = path.dirname(manifestPath);
  const onnx = new Uint8Array(await readFile(path.join(dir, manifest.onnx.file)));
  verifyOnnxBytes(manifest, onnx);
  const weights =
    manifest.weights === undefined
      ? undefined
      : new Uint8Array(await readFile(path.join(dir, manifest.weights.file)));
  return { manifest, manifestBytes, onnx, weights };
}

/**
 * Golden inputs: smooth seeded patterns in the model's input range [-1, 1] (stripes and
 * gradients at random angles, the kind of structure camera frames have, not white noise).
 */
export function makeGoldenFrames(count: number, height: number, width: number, seed = 7): Float32Array[] {
  const rng = new Rng(seed);
  const out: Float32Array[] = [];
  for (let k = 0; k < count; k++) {
    const fx = rng.uniform(-0.08, 0.08);
    const fy = rng.uniform(-0.08, 0.08);
    const phase = rng.uniform(0, Math.PI * 2);
    const tilt = rng.uniform(-1, 1) / Math.max(height, width);
    const f = new Float32Array(height * width);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        f[y * width + x] = Math.max(
          -1,
          Math.min(1, 0.8 * Math.sin(fx * x + fy * y + phase) + tilt * (x - y)),
        );
    out.push(f);
  }
  return out;
}

export function goldenBytes(frames: readonly Float32Array[]): Uint8Array {
  const values = frames.reduce((n, f) => n + f.length, 0);
  const out = new Uint8Array(values * 4);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const f of frames)
    for (const v of f) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  return out;
}

/** The package's outputs for the golden inputs, on ONNX Runtime's CPU provider. */
export async function goldenOutputs(pkg: PackageFiles, frames: readonly Float32Array[]): Promise<number[]> {
  const engine = await OnnxEngine.create({
    onnx: pkg.onnx,
    input: pkg.manifest.input,
    inputName: pkg.manifest.onnx.inputName,
    outputName: pkg.manifest.onnx.outputName,
    config: { executionProviders: ['cpu'], warmupRuns: 0 },
    log: () => {},
  });
  try {
    const out: number[] = [];
    for (const f of frames) out.push(await engine.runOne(f));
    return out;
  } finally {
    await engine.dispose();
  }
}

export function bundlePackage(pkg: PackageFiles, frames: readonly Float32Array[]): Uint8Array {
  const m = pkg.manifest;
  const files: BundleFile[] = [
    { name: `${m.name}.manifest.json`, data: pkg.manifestBytes },
    { name: m.onnx.file, data: pkg.onnx },
  ];
  if (pkg.weights !== undefined && m.weights !== undefined)
    files.push({ name: m.weights.file, data: pkg.weights });
  files.push({ name: GOLDEN_FILE, data: goldenBytes(frames) });
  return encodeBundle(files);
}

export interface ReleaseOptions {
  readonly fleet: string;
  readonly signer: string;
  readonly privateKey: KeyObject;
  readonly allowDowngrade?: boolean;
  readonly chunkBytes?: number;
  readonly goldenCount?: number;
  readonly tolerance?: number;
  readonly latencyBudgetMs?: number;
  readonly probation?: UnsignedRelease['probation'];
  readonly now?: () => number;
}

export interface BuiltRelease {
  readonly release: Release;
  /** The manifest as published (JSON). */
  readonly manifestBytes: Uint8Array;
  readonly artifact: Uint8Array;
  readonly chunks: readonly Uint8Array[];
}

/** The unsigned release fields for an artifact; the drill builds faulty releases from these. */
export function releaseFields(
  pkg: PackageFiles,
  artifact: Uint8Array,
  expected: readonly number[],
  o: Omit<ReleaseOptions, 'privateKey'>,
): UnsignedRelease {
  return {
    v: 1,
    fleet: o.fleet,
    name: pkg.manifest.name,
    version: pkg.manifest.version,
    signer: o.signer,
    createdAt: Math.floor((o.now ?? Date.now)()),
    allowDowngrade: o.allowDowngrade ?? false,
    artifact: describeArtifact(artifact, o.chunkBytes ?? DEFAULT_CHUNK_BYTES),
    golden: { expected: [...expected], tolerance: o.tolerance ?? DEFAULT_TOLERANCE },
    latencyBudgetMs: o.latencyBudgetMs ?? DEFAULT_LATENCY_BUDGET_MS,
    probation: o.probation ?? DEFAULT_PROBATION,
  };
}

export function finishRelease(release: Release, artifact: Uint8Array): BuiltRelease {
  return {
    release,
    manifestBytes: new TextEncoder().encode(JSON.stringify(release)),
    artifact,
    chunks: splitArtifact(artifact, release.artifact.chunkBytes),
  };
}

export async function buildRelease(model: string, o: ReleaseOptions): Promise<BuiltRelease> {
  const pkg = await readPackageFiles(model);
  const frames = makeGoldenFrames(
    o.goldenCount ?? DEFAULT_GOLDEN_COUNT,
    pkg.manifest.input.height,
    pkg.manifest.input.width,
  );
  const artifact = bundlePackage(pkg, frames);
  const release = signRelease(
    releaseFields(pkg, artifact, await goldenOutputs(pkg, frames), o),
    o.privateKey,
  );
  return finishRelease(release, artifact);
}

export interface PublishResult {
  readonly chunks: number;
  /** Bytes on the wire: the artifact's chunks and the manifest. */
  readonly bytes: number;
}

/** Publishes chunks (each acknowledged), then the manifest; all retained. */
export async function publishRelease(url: string, built: BuiltRelease): Promise<PublishResult> {
  const publisher = await MqttOtaPublisher.connect({ url, fleet: built.release.fleet, client: 'publisher' });
  try {
    for (let i = 0; i < built.chunks.length; i++)
      await publisher.publishChunk(built.release.artifact.sha256, i, built.chunks[i]!);
    await publisher.publishRelease(built.manifestBytes);
  } finally {
    await publisher.close();
  }
  return { chunks: built.chunks.length, bytes: built.artifact.byteLength + built.manifestBytes.byteLength };
}
