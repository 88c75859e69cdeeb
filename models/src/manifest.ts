// The manifest that travels with every exported model: what it is, how to feed it, where it
// came from. Validated whenever it is read; a model without a matching manifest does not run.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ManifestError } from './errors.ts';
import { InputSpecSchema } from './input-spec.ts';
import { PrecisionSpecSchema } from './quantize/precision.ts';

export const MANIFEST_SCHEMA_ID = 'fadnet-edge/model-manifest@1';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

/**
 * A model's name becomes file names beside the manifest, and the manifest's file fields are
 * resolved beside it: both must be plain names, never paths that climb out of the folder.
 */
export const PlainFileName = z
  .string()
  .regex(
    /^(?!\.\.?$)[A-Za-z0-9._-]+$/,
    'a plain file name (letters, digits, ".", "_" and "-"; no "/" and not "." or "..")',
  );

export const SemanticVersion = z
  .string()
  .regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/, 'a semantic version such as 1.2.0');

export const ManifestSchema = z
  .object({
    schema: z.literal(MANIFEST_SCHEMA_ID),
    name: PlainFileName,
    version: SemanticVersion,
    onnx: z
      .object({
        file: PlainFileName,
        sha256: Sha256,
        bytes: z.number().int().positive(),
        opset: z.number().int().min(13),
        inputName: z.string().min(1),
        outputName: z.string().min(1),
      })
      .strict(),
    weights: z.object({ file: PlainFileName, sha256: Sha256 }).strict().optional(),
    input: InputSpecSchema,
    output: z
      .object({
        shape: z.tuple([z.literal('N'), z.literal(1)]),
        meaning: z.literal('steering'),
        range: z.tuple([z.number(), z.number()]),
      })
      .strict(),
    /** What the graph computes in and how it was quantized; absent in packages that predate it (float32). */
    precision: PrecisionSpecSchema.optional(),
    provenance: z
      .object({
        data: z.array(z.string()),
        rounds: z.number().int().nonnegative(),
        date: z.iso.datetime(),
        command: z.string().optional(),
        parent: z.string().optional(),
      })
      .strict(),
  })
  .strict();

export type ModelManifest = z.infer<typeof ManifestSchema>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function parseManifest(json: unknown, source = 'manifest'): ModelManifest {
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ManifestError(`${source} is not a valid model manifest: ${issues}`, { cause: parsed.error });
  }
  return parsed.data;
}

export function parseManifestText(text: string, source = 'manifest'): ModelManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${source} is not valid JSON`, { cause: error });
  }
  return parseManifest(json, source);
}

/** Throws unless the ONNX bytes are the ones the manifest names. */
export function verifyOnnxBytes(manifest: ModelManifest, onnx: Uint8Array): void {
  const actual = sha256Hex(onnx);
  if (actual !== manifest.onnx.sha256) {
    throw new ManifestError(
      `model ${manifest.name}@${manifest.version}: ONNX sha256 is ${actual}, manifest says ${manifest.onnx.sha256}`,
    );
  }
  if (onnx.byteLength !== manifest.onnx.bytes) {
    throw new ManifestError(
      `model ${manifest.name}@${manifest.version}: ONNX has ${onnx.byteLength} bytes, manifest says ${manifest.onnx.bytes}`,
    );
  }
}
