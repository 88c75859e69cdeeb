// The release artifact: one file holding the model package (manifest, ONNX, safetensors) and
// the golden inputs, so one sha256 and one chunk list cover all of it. Pure.
//
// "FOTA" | u32 LE table length | table JSON {"v":1,"files":[{"name","bytes","sha256"}]} | the
// files' bytes in table order. Every file's own sha256 is checked on decoding, so a bundle that
// decodes is exactly the one that was built.
import { z } from 'zod';
import { PlainFileName } from '../../models/src/manifest.ts';
import { sha256Hex } from '../exchange/index.ts';
import { BundleFormatError } from './errors.ts';

const MAGIC = Uint8Array.from([0x46, 0x4f, 0x54, 0x41]); // "FOTA"
const MAX_TABLE_BYTES = 64 * 1024;

/** The golden inputs inside a bundle: N x 1 x H x W little-endian float32. */
export const GOLDEN_FILE = 'golden.f32';

const tableSchema = z.strictObject({
  v: z.literal(1),
  files: z
    .array(
      z.strictObject({
        name: PlainFileName,
        bytes: z.number().int().nonnegative(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    )
    .min(1)
    .max(16),
});

export interface BundleFile {
  readonly name: string;
  readonly data: Uint8Array;
}

export function encodeBundle(files: readonly BundleFile[]): Uint8Array {
  const table = {
    v: 1,
    files: files.map((f) => ({ name: f.name, bytes: f.data.byteLength, sha256: sha256Hex(f.data) })),
  };
  const json = new TextEncoder().encode(JSON.stringify(table));
  const total = 8 + json.length + files.reduce((n, f) => n + f.data.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const f of files) {
    out.set(f.data, at);
    at += f.data.byteLength;
  }
  return out;
}

/** The files of a bundle by name; BundleFormatError naming the first problem. */
export function decodeBundle(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new BundleFormatError(`${source}: not a model bundle (no "FOTA" magic)`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (length > MAX_TABLE_BYTES || 8 + length > bytes.length)
    throw new BundleFormatError(`${source}: a table of ${length} bytes does not fit ${bytes.length} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length)));
  } catch (error) {
    throw new BundleFormatError(`${source}: the table is not JSON`, { cause: error });
  }
  const parsed = tableSchema.safeParse(json);
  if (!parsed.success)
    throw new BundleFormatError(
      `${source}: bad table: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
    );
  const out = new Map<string, Uint8Array>();
  let at = 8 + length;
  for (const f of parsed.data.files) {
    if (out.has(f.name)) throw new BundleFormatError(`${source}: ${f.name} appears twice`);
    const data = bytes.subarray(at, at + f.bytes);
    if (data.byteLength !== f.bytes) throw new BundleFormatError(`${source}: ${f.name} is truncated`);
    if (sha256Hex(data) !== f.sha256)
      throw new BundleFormatError(`${source}: ${f.name} does not match its sha256`);
    out.set(f.name, data);
    at += f.bytes;
  }
  if (at !== bytes.length)
    throw new BundleFormatError(`${source}: ${bytes.length - at} bytes after the last file`);
  return out;
}
