// File-system adapter of the model core: tensor files, weight files, model packages. The pure
// codecs live elsewhere; this only reads, writes atomically and checks.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../common/index.ts';
import { TensorFileError } from './errors.ts';
import type { FrameSize } from './fadnet/geometry.ts';
import { FADNET_INPUT_SPEC, type InputSpec } from './input-spec.ts';
import {
  MANIFEST_SCHEMA_ID,
  parseManifest,
  parseManifestText,
  sha256Hex,
  verifyOnnxBytes,
  type ModelManifest,
} from './manifest.ts';
import { ONNX_INPUT_NAME, ONNX_OPSET, ONNX_OUTPUT_NAME } from './onnx/export.ts';
import { exportPrecisionOnnx, type PrecisionTarget } from './quantize/export.ts';
import { weightsFromSafetensors, weightsToSafetensors, type WeightSet } from './weights/weight-set.ts';

/** Reads an N x 1 x H x W little-endian float32 file, H x W the model's input size. */
export async function readInputTensorFile(
  file: string,
  size: FrameSize = FADNET_INPUT_SPEC,
): Promise<{ data: Float32Array; n: number }> {
  const FRAME = size.height * size.width;
  const buf = await readFile(file);
  if (buf.byteLength === 0 || buf.byteLength % (FRAME * 4) !== 0) {
    throw new TensorFileError(
      `${path.basename(file)} has ${buf.byteLength} bytes, not a multiple of ${FRAME * 4} (one 1 x ${size.height} x ${size.width} float32 image)`,
    );
  }
  const data = new Float32Array(buf.byteLength / 4);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new TensorFileError(`${path.basename(file)} has a non-finite value at index ${bad}`);
  return { data, n: data.length / FRAME };
}

export async function readWeightsFile(file: string): Promise<WeightSet> {
  return weightsFromSafetensors(new Uint8Array(await readFile(file)));
}

export interface LoadedModel {
  readonly manifest: ModelManifest;
  readonly onnx: Uint8Array;
  readonly manifestPath: string;
}

/** Reads a manifest and the ONNX file it names, and checks the bytes are the ones it describes. */
export async function loadModelPackage(manifestPath: string): Promise<LoadedModel> {
  const manifest = parseManifestText(await readFile(manifestPath, 'utf8'), path.basename(manifestPath));
  const onnx = new Uint8Array(await readFile(path.resolve(path.dirname(manifestPath), manifest.onnx.file)));
  verifyOnnxBytes(manifest, onnx);
  return { manifest, onnx, manifestPath };
}

export interface PackageOptions {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly weights: WeightSet;
  readonly provenance: ModelManifest['provenance'];
  /** The preprocessing and input size the model takes (FADNET_INPUT_SPEC unless said). */
  readonly input?: InputSpec;
  /** float32 unless said; int8 carries its calibrated ranges. */
  readonly precision?: PrecisionTarget;
}

/**
 * Exports ONNX and writes ONNX, safetensors and manifest; the manifest last, so it only ever
 * names complete files. The manifest is validated against its schema before anything is
 * written: a name that is a path or a version the loader would reject writes nothing.
 */
export async function writeModelPackage(
  options: PackageOptions,
): Promise<{ manifest: ModelManifest; manifestPath: string }> {
  const { onnx, precision } = exportPrecisionOnnx(options.weights, options.precision ?? { kind: 'fp32' }, {
    modelName: options.name,
    producerVersion: options.version,
    metadata: { version: options.version },
    input: options.input ?? FADNET_INPUT_SPEC,
  });
  const safetensors = weightsToSafetensors(options.weights, {
    metadata: { name: options.name, version: options.version },
  });
  const onnxFile = `${options.name}.onnx`;
  const weightsFile = `${options.name}.safetensors`;
  const manifest: ModelManifest = {
    schema: MANIFEST_SCHEMA_ID,
    name: options.name,
    version: options.version,
    onnx: {
      file: onnxFile,
      sha256: sha256Hex(onnx),
      bytes: onnx.byteLength,
      opset: ONNX_OPSET,
      inputName: ONNX_INPUT_NAME,
      outputName: ONNX_OUTPUT_NAME,
    },
    weights: { file: weightsFile, sha256: sha256Hex(safetensors) },
    input: options.input ?? FADNET_INPUT_SPEC,
    output: { shape: ['N', 1], meaning: 'steering', range: [-1, 1] },
    precision,
    provenance: options.provenance,
  };
  parseManifest(manifest, `the manifest of model ${JSON.stringify(options.name)}`);
  await writeFileAtomic(path.join(options.dir, onnxFile), onnx);
  await writeFileAtomic(path.join(options.dir, weightsFile), safetensors);
  const manifestPath = path.join(options.dir, `${options.name}.manifest.json`);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, manifestPath };
}
