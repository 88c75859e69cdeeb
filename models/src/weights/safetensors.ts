// safetensors codec without I/O: an 8-byte little-endian header length, a JSON header
// (dtype, shape, data_offsets per tensor, optional __metadata__), then raw little-endian data.
import { z } from 'zod';
import { SafetensorsFormatError } from '../errors.ts';
import { bfloat16ToFloat, floatToHalf, halfToFloat } from './half.ts';

export type StoredDtype = 'F32' | 'F16';

export interface DecodedTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Values widened to float32 whatever the stored dtype. */
  readonly data: Float32Array;
}

export interface DecodedSafetensors {
  readonly tensors: ReadonlyMap<string, DecodedTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

const TensorEntrySchema = z
  .object({
    dtype: z.string(),
    shape: z.array(z.number().int().nonnegative()),
    data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
  })
  .strict();

const MetadataSchema = z.record(z.string(), z.string());

const BYTES_PER: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
// The format caps the header at 100 MB; anything near that is a corrupt length field.
const MAX_HEADER_BYTES = 100_000_000;

export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (bytes.byteLength < 8) {
    throw new SafetensorsFormatError(
      `safetensors file has ${bytes.byteLength} bytes, too short for a header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    throw new SafetensorsFormatError(
      `safetensors header length ${headerLength} exceeds the ${bytes.byteLength - 8} bytes after it`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    throw new SafetensorsFormatError('safetensors header is not valid UTF-8 JSON', { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsFormatError('safetensors header is not a JSON object');
  }
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, DecodedTensor>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      const parsed = MetadataSchema.safeParse(raw);
      if (!parsed.success)
        throw new SafetensorsFormatError('safetensors __metadata__ must map strings to strings');
      metadata = parsed.data;
      continue;
    }
    const parsed = TensorEntrySchema.safeParse(raw);
    if (!parsed.success) {
      throw new SafetensorsFormatError(
        `tensor ${name} has a malformed header entry: ${parsed.error.message}`,
      );
    }
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = parsed.data;
    const width = BYTES_PER[dtype];
    if (width === undefined)
      throw new SafetensorsFormatError(`tensor ${name} has unsupported dtype ${dtype}`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength) {
      throw new SafetensorsFormatError(
        `tensor ${name} spans bytes [${begin}, ${end}) outside the ${dataLength}-byte data`,
      );
    }
    if (end - begin !== count * width) {
      throw new SafetensorsFormatError(
        `tensor ${name} of shape [${shape.join(',')}] ${dtype} needs ${count * width} bytes, header gives ${end - begin}`,
      );
    }
    spans.push([begin, end, name]);
    tensors.set(name, { dtype, shape, data: widen(bytes, dataStart + begin, count, dtype) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!;
    const cur = spans[i]!;
    if (cur[0] < prev[1])
      throw new SafetensorsFormatError(`tensors ${prev[2]} and ${cur[2]} overlap in the data`);
  }
  return { tensors, metadata };
}

function widen(bytes: Uint8Array, offset: number, count: number, dtype: string): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * (BYTES_PER[dtype] ?? 4));
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bfloat16ToFloat(view.getUint16(i * 2, true));
      break;
    default:
      throw new SafetensorsFormatError(`unsupported dtype ${dtype}`);
  }
  return out;
}

export interface EncodableTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export function encodeSafetensors(
  tensors: Iterable<readonly [string, EncodableTensor]>,
  options: { dtype?: StoredDtype; metadata?: Record<string, string> } = {},
): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  const width = BYTES_PER[dtype]!;
  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) header['__metadata__'] = options.metadata;
  const entries = [...tensors];
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new SafetensorsFormatError(
        `tensor ${name} has ${t.data.length} values for shape [${t.shape.join(',')}]`,
      );
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + count * width] };
    offset += count * width;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of entries) {
    if (dtype === 'F32') {
      for (const v of t.data) {
        view.setFloat32(pos, v, true);
        pos += 4;
      }
    } else {
      for (const v of t.data) {
        view.setUint16(pos, floatToHalf(v), true);
        pos += 2;
      }
    }
  }
  return out;
}
