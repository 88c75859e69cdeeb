// The update codec: a weight set to the bytes of one update payload and back. Pure: no I/O.
//
// Layout (little-endian): "FXW1" | u32 table length | table JSON | zero padding to 4 bytes |
// tensor data. The table names every tensor with its shape, how it is stored and where, so a
// receiver checks names and shapes against FADNet's spec instead of trusting a fixed order, and
// a payload from a different model version is refused by name rather than misread.
//
// Tensors with fewer than SMALL_TENSOR_VALUES values (biases, batch-norm weights and running
// statistics, the fc layers: 3,740 values in all) always travel as float32: they are 1% of the
// values but steer every activation, and a scale per tiny tensor would cost nearly as much as
// the values. Under int8 each stored tensor's region starts with its float32 scales (one, or one
// per output channel), then one signed byte per value: value = q * scale, q in [-127, 127].

import { z } from 'zod';

import { floatToHalf, halfToFloat } from '../../models/src/weights/half.ts';
import { FADNET_PARAMS } from '../../models/src/weights/spec.ts';
import { validateWeights, type TensorLike, type WeightSet } from '../../models/src/weights/weight-set.ts';
import { PayloadFormatError } from './errors.ts';
import type { Encoding } from './types.ts';

export const ENCODINGS: readonly Encoding[] = ['f32', 'f16', 'int8', 'int8-channel'];

/** Tensors smaller than this travel as float32 under every encoding. */
export const SMALL_TENSOR_VALUES = 1024;

const MAGIC = Uint8Array.from([0x46, 0x58, 0x57, 0x31]); // "FXW1"
const MAX_TABLE_BYTES = 1 << 20;
const MAX_TENSORS = 1024;

export type StoredAs = 'f32' | 'f16' | 'i8';

const tableSchema = z.strictObject({
  v: z.literal(1),
  encoding: z.enum(['f32', 'f16', 'int8', 'int8-channel']),
  tensors: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(256),
        shape: z.array(z.number().int().min(1)).min(1).max(8),
        dtype: z.enum(['f32', 'f16', 'i8']),
        scales: z.number().int().min(0),
        offset: z.number().int().min(0),
        bytes: z.number().int().min(0),
      }),
    )
    .max(MAX_TENSORS),
});

type TableEntry = z.infer<typeof tableSchema>['tensors'][number];

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** The wire is little-endian; on a little-endian host (every robot target) values are copied as bytes. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

let halfTable: Float32Array | undefined;
/** Every float16 bit pattern's value, built once (256 KiB), so decoding is one lookup per value. */
function halves(): Float32Array {
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}
const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function storedBytes(dtype: StoredAs, values: number, scales: number): number {
  switch (dtype) {
    case 'f32':
      return 4 * values;
    case 'f16':
      return 2 * values;
    case 'i8':
      return 4 * scales + values;
  }
}

/** float16 of every value, or undefined when one would overflow to infinity (send float32 instead). */
function toHalves(data: Float32Array): Uint16Array | undefined {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const h = floatToHalf(data[i]!);
    if ((h & 0x7c00) === 0x7c00) return undefined;
    out[i] = h;
  }
  return out;
}

/** Symmetric int8 with `scales` rows (1: the whole tensor, shape[0]: one per output channel). */
function quantise(data: Float32Array, scales: number): { scale: Float32Array; q: Int8Array } {
  const rowLen = data.length / scales;
  const scale = new Float32Array(scales);
  const q = new Int8Array(data.length);
  for (let r = 0; r < scales; r++) {
    let maxAbs = 0;
    for (let i = r * rowLen; i < (r + 1) * rowLen; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i]!));
    scale[r] = maxAbs / 127;
    const s = scale[r]!; // rounded to float32, as the receiver will read it
    if (s === 0) continue;
    for (let i = r * rowLen; i < (r + 1) * rowLen; i++) {
      q[i] = Math.max(-127, Math.min(127, Math.round(data[i]! / s)));
    }
  }
  return { scale, q };
}

function storedAs(encoding: Encoding, data: Float32Array): StoredAs {
  if (data.length < SMALL_TENSOR_VALUES) return 'f32';
  switch (encoding) {
    case 'f32':
      return 'f32';
    case 'f16':
      return 'f16';
    case 'int8':
    case 'int8-channel':
      return 'i8';
  }
}

/**
 * Encodes tensors as given, in order. The codec itself does not judge names or shapes (the
 * receiver does); use encodeWeights for a validated FADNet weight set.
 */
export function encodeTensors(tensors: readonly NamedTensor[], encoding: Encoding): Uint8Array {
  // First the table (every tensor's storage and offset), then one allocation, then the values.
  const plan: { t: NamedTensor; entry: TableEntry; halves: Uint16Array | undefined }[] = [];
  let dataBytes = 0;
  for (const t of tensors) {
    let dtype = storedAs(encoding, t.data);
    const halves = dtype === 'f16' ? toHalves(t.data) : undefined;
    if (dtype === 'f16' && halves === undefined) dtype = 'f32';
    const scales = dtype === 'i8' ? (encoding === 'int8-channel' ? (t.shape[0] ?? 1) : 1) : 0;
    if (dtype === 'i8' && t.data.length % scales !== 0) {
      throw new RangeError(`tensor ${t.name}: ${t.data.length} values do not split into ${scales} channels`);
    }
    const bytes = storedBytes(dtype, t.data.length, scales);
    plan.push({
      t,
      entry: { name: t.name, shape: [...t.shape], dtype, scales, offset: dataBytes, bytes },
      halves,
    });
    dataBytes += align4(bytes);
  }
  const table = new TextEncoder().encode(
    JSON.stringify({ v: 1, encoding, tensors: plan.map((p) => p.entry) }),
  );
  const dataStart = align4(8 + table.length);
  const out = new Uint8Array(dataStart + dataBytes);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, table.length, true);
  out.set(table, 8);
  for (const { t, entry, halves } of plan) {
    const at = dataStart + entry.offset;
    switch (entry.dtype) {
      case 'f32':
        if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
        else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i]!, true);
        break;
      case 'f16':
        for (let i = 0; i < halves!.length; i++) view.setUint16(at + 2 * i, halves![i]!, true);
        break;
      case 'i8': {
        const { scale, q } = quantise(t.data, entry.scales);
        for (let r = 0; r < entry.scales; r++) view.setFloat32(at + 4 * r, scale[r]!, true);
        out.set(new Uint8Array(q.buffer), at + 4 * entry.scales);
        break;
      }
    }
  }
  return out;
}

/** Encodes a FADNet weight set (every tensor, batch-norm running statistics included) in spec order. */
export function encodeWeights(weights: WeightSet, encoding: Encoding): Uint8Array {
  return encodeTensors(
    FADNET_PARAMS.map((p) => {
      const data = weights.get(p.name);
      if (data === undefined) throw new RangeError(`weight set has no tensor ${p.name}`);
      return { name: p.name, shape: p.shape, data };
    }),
    encoding,
  );
}

/** Reads a payload's tensors without judging them against FADNet; throws PayloadFormatError. */
export function decodeTensors(payload: Uint8Array): { encoding: Encoding; tensors: NamedTensor[] } {
  if (payload.length < 8 || MAGIC.some((b, i) => payload[i] !== b)) {
    throw new PayloadFormatError('payload does not start with the update magic "FXW1"');
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const tableLength = view.getUint32(4, true);
  if (tableLength > MAX_TABLE_BYTES || 8 + tableLength > payload.length) {
    throw new PayloadFormatError(
      `payload table of ${tableLength} bytes does not fit a ${payload.length}-byte payload`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(8, 8 + tableLength)));
  } catch (error) {
    throw new PayloadFormatError('payload table is not JSON', { cause: error });
  }
  const parsed = tableSchema.safeParse(json);
  if (!parsed.success) {
    throw new PayloadFormatError(`payload table is malformed: ${z.prettifyError(parsed.error)}`);
  }
  const dataStart = align4(8 + tableLength);
  const dataBytes = payload.length - dataStart;
  const seen = new Set<string>();
  const tensors: NamedTensor[] = [];
  for (const e of parsed.data.tensors) {
    if (seen.has(e.name)) throw new PayloadFormatError(`tensor ${e.name} appears twice`);
    seen.add(e.name);
    const values = product(e.shape);
    const wantScales = e.dtype === 'i8' ? [1, e.shape[0]!] : [0];
    if (!wantScales.includes(e.scales) || (e.dtype === 'i8' && values % e.scales !== 0)) {
      throw new PayloadFormatError(`tensor ${e.name} stored as ${e.dtype} cannot have ${e.scales} scales`);
    }
    if (e.bytes !== storedBytes(e.dtype, values, e.scales)) {
      throw new PayloadFormatError(
        `tensor ${e.name} of shape [${e.shape.join(',')}] as ${e.dtype} needs ${storedBytes(e.dtype, values, e.scales)} bytes, table says ${e.bytes}`,
      );
    }
    if (e.offset % 4 !== 0 || e.offset + e.bytes > dataBytes) {
      throw new PayloadFormatError(
        `tensor ${e.name} at offset ${e.offset} (${e.bytes} bytes) lies outside the ${dataBytes} data bytes`,
      );
    }
    const at = dataStart + e.offset;
    const data = new Float32Array(values);
    switch (e.dtype) {
      case 'f32':
        if (LITTLE_ENDIAN) data.set(new Float32Array(payload.slice(at, at + 4 * values).buffer));
        else for (let i = 0; i < values; i++) data[i] = view.getFloat32(at + 4 * i, true);
        break;
      case 'f16': {
        const table = halves();
        if (LITTLE_ENDIAN) {
          const bits = new Uint16Array(payload.slice(at, at + 2 * values).buffer);
          for (let i = 0; i < values; i++) data[i] = table[bits[i]!]!;
        } else for (let i = 0; i < values; i++) data[i] = table[view.getUint16(at + 2 * i, true)]!;
        break;
      }
      case 'i8': {
        const rowLen = values / e.scales;
        const q = new Int8Array(payload.buffer, payload.byteOffset + at + 4 * e.scales, values);
        for (let r = 0; r < e.scales; r++) {
          const s = view.getFloat32(at + 4 * r, true);
          for (let i = r * rowLen; i < (r + 1) * rowLen; i++) data[i] = q[i]! * s;
        }
        break;
      }
    }
    tensors.push({ name: e.name, shape: e.shape, data });
  }
  return { encoding: parsed.data.encoding, tensors };
}

/**
 * Decodes a payload into a validated FADNet weight set. Throws PayloadFormatError for malformed
 * bytes and WeightError (models) for wrong names, shapes, missing tensors or non-finite values.
 */
export function decodeWeights(payload: Uint8Array): { encoding: Encoding; weights: WeightSet } {
  const { encoding, tensors } = decodeTensors(payload);
  const map = new Map<string, TensorLike>(tensors.map((t) => [t.name, { shape: t.shape, data: t.data }]));
  return { encoding, weights: validateWeights(map) };
}
