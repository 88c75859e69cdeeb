// The update codec, byte by byte: layout, every encoding's values and sizes, and every way a
// payload can be malformed.
import { describe, expect, it } from 'vitest';

import {
  decodeTensors,
  decodeWeights,
  encodeTensors,
  encodeWeights,
  ENCODINGS,
  PayloadFormatError,
} from '../../fleet/exchange/index.ts';
import { floatToHalf, halfToFloat } from '../../models/src/weights/half.ts';
import { FADNET_PARAMS, sizeOf } from '../../models/src/weights/spec.ts';
import { initialWeights } from '../../models/src/weights/weight-set.ts';

const weights = initialWeights(7);
const TOTAL_VALUES = FADNET_PARAMS.reduce((n, p) => n + sizeOf(p.shape), 0);
const tableLength = (payload: Uint8Array): number => new DataView(payload.buffer).getUint32(4, true);
const dataBytes = (payload: Uint8Array): number => payload.length - ((8 + tableLength(payload) + 3) & ~3);

describe('update codec', () => {
  it('lays out magic, table length, table JSON and 4-byte aligned data', () => {
    const payload = encodeTensors([{ name: 'a', shape: [3], data: Float32Array.from([1, -2, 0.5]) }], 'f32');
    expect([...payload.subarray(0, 4)]).toEqual([0x46, 0x58, 0x57, 0x31]);
    const table = JSON.parse(new TextDecoder().decode(payload.subarray(8, 8 + tableLength(payload))));
    expect(table).toEqual({
      v: 1,
      encoding: 'f32',
      tensors: [{ name: 'a', shape: [3], dtype: 'f32', scales: 0, offset: 0, bytes: 12 }],
    });
    const start = (8 + tableLength(payload) + 3) & ~3;
    expect(payload.length).toBe(start + 12);
    expect([...payload.subarray(8 + tableLength(payload), start)].every((b) => b === 0)).toBe(true);
    expect([...payload.subarray(start, start + 4)]).toEqual([0x00, 0x00, 0x80, 0x3f]); // 1.0f little-endian
    expect(new DataView(payload.buffer).getFloat32(start + 4, true)).toBe(-2);
  });

  it('f32 round-trips every FADNet tensor exactly', () => {
    const { encoding, weights: back } = decodeWeights(encodeWeights(weights, 'f32'));
    expect(encoding).toBe('f32');
    for (const p of FADNET_PARAMS) expect(back.get(p.name)).toEqual(weights.get(p.name));
  });

  it('f16 stores large tensors as IEEE halves and small ones as float32', () => {
    const payload = encodeWeights(weights, 'f16');
    const { weights: back } = decodeWeights(payload);
    for (const p of FADNET_PARAMS) {
      const src = weights.get(p.name)!;
      const got = back.get(p.name)!;
      if (src.length < 1024) expect(got).toEqual(src);
      else for (let i = 0; i < src.length; i += 97) expect(got[i]).toBe(halfToFloat(floatToHalf(src[i]!)));
    }
  });

  it('f16 sends a tensor that would overflow half precision as float32', () => {
    const big = new Float32Array(2048).fill(1);
    big[5] = 1e6;
    const [t] = decodeTensors(encodeTensors([{ name: 'big', shape: [2048], data: big }], 'f16')).tensors;
    expect(t!.data).toEqual(big);
  });

  it('int8 per tensor and per channel stay within half a quantisation step', () => {
    for (const encoding of ['int8', 'int8-channel'] as const) {
      const { weights: back } = decodeWeights(encodeWeights(weights, encoding));
      for (const p of FADNET_PARAMS) {
        const src = weights.get(p.name)!;
        const got = back.get(p.name)!;
        if (src.length < 1024) {
          expect(got).toEqual(src);
          continue;
        }
        const rows = encoding === 'int8' ? 1 : p.shape[0]!;
        const rowLen = src.length / rows;
        for (let r = 0; r < rows; r++) {
          const row = src.subarray(r * rowLen, (r + 1) * rowLen);
          const step = Math.fround(row.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127);
          let worst = 0;
          for (let i = 0; i < rowLen; i++) worst = Math.max(worst, Math.abs(got[r * rowLen + i]! - row[i]!));
          expect(worst).toBeLessThanOrEqual(step / 2 + 1e-7);
          expect(worst).toBeGreaterThan(0);
        }
      }
    }
  });

  it('int8 per channel writes one float32 scale per output channel before the bytes', () => {
    const data = Float32Array.from({ length: 2 * 512 }, (_, i) => (i < 512 ? 0.5 : -2) * ((i % 7) / 6));
    const payload = encodeTensors([{ name: 'w', shape: [2, 512], data }], 'int8-channel');
    const start = (8 + tableLength(payload) + 3) & ~3;
    const view = new DataView(payload.buffer);
    expect(view.getFloat32(start, true)).toBe(Math.fround(0.5 / 127));
    expect(view.getFloat32(start + 4, true)).toBe(Math.fround(2 / 127));
    expect(new Int8Array(payload.buffer, start + 8, 1024)[6]).toBe(127);
    expect(new Int8Array(payload.buffer, start + 8, 1024)[512 + 5]).toBe(-127); // 517 % 7 === 6
    expect(dataBytes(payload)).toBe(8 + 1024);
  });

  it('an all-zero tensor quantises to scale 0 and decodes to zeros', () => {
    const [t] = decodeTensors(
      encodeTensors([{ name: 'z', shape: [4, 512], data: new Float32Array(2048) }], 'int8-channel'),
    ).tensors;
    expect(t!.data).toEqual(new Float32Array(2048));
  });

  it('data sizes per encoding follow from the spec (3,740 small values always float32)', () => {
    const small = FADNET_PARAMS.filter((p) => sizeOf(p.shape) < 1024);
    const smallValues = small.reduce((n, p) => n + sizeOf(p.shape), 0);
    const large = FADNET_PARAMS.filter((p) => sizeOf(p.shape) >= 1024);
    const channels = large.reduce((n, p) => n + p.shape[0]!, 0);
    const bigValues = TOTAL_VALUES - smallValues;
    const smallBytes = small.reduce((n, p) => n + 4 * sizeOf(p.shape), 0);
    expect(smallValues).toBe(3740);
    expect(dataBytes(encodeWeights(weights, 'f32'))).toBe(4 * TOTAL_VALUES);
    expect(dataBytes(encodeWeights(weights, 'f16'))).toBe(smallBytes + 2 * bigValues);
    expect(dataBytes(encodeWeights(weights, 'int8'))).toBe(smallBytes + bigValues + 4 * large.length);
    expect(dataBytes(encodeWeights(weights, 'int8-channel'))).toBe(smallBytes + bigValues + 4 * channels);
    for (const e of ENCODINGS)
      expect(encodeWeights(weights, e).length).toBeLessThan(e.startsWith('int8') ? 400_000 : 1.4e6);
  });
});

describe('malformed payloads', () => {
  const good = encodeTensors([{ name: 'a', shape: [2], data: Float32Array.from([1, 2]) }], 'f32');
  const withTable = (table: unknown, data = new Uint8Array(8)): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(table));
    const start = (8 + json.length + 3) & ~3;
    const out = new Uint8Array(start + data.length);
    out.set([0x46, 0x58, 0x57, 0x31]);
    new DataView(out.buffer).setUint32(4, json.length, true);
    out.set(json, 8);
    out.set(data, start);
    return out;
  };
  const entry = { name: 'a', shape: [2], dtype: 'f32', scales: 0, offset: 0, bytes: 8 };

  it.each([
    [
      'bad magic',
      Uint8Array.from([1, 2, 3, 4, 0, 0, 0, 0]),
      'payload does not start with the update magic "FXW1"',
    ],
    ['too short', good.subarray(0, 5), 'payload does not start with the update magic "FXW1"'],
    [
      'table overruns',
      good.subarray(0, 20),
      `payload table of ${tableLength(good)} bytes does not fit a 20-byte payload`,
    ],
    ['not JSON', withTable(undefined).fill(0x41, 8, 9), 'payload table is not JSON'],
    [
      'bytes disagree with shape',
      withTable({ v: 1, encoding: 'f32', tensors: [{ ...entry, bytes: 4 }] }),
      'tensor a of shape [2] as f32 needs 8 bytes, table says 4',
    ],
    [
      'data outside the payload',
      withTable({ v: 1, encoding: 'f32', tensors: [{ ...entry, offset: 4 }] }),
      'tensor a at offset 4 (8 bytes) lies outside the 8 data bytes',
    ],
    ['a name twice', withTable({ v: 1, encoding: 'f32', tensors: [entry, entry] }), 'tensor a appears twice'],
    [
      'scales on a float tensor',
      withTable({ v: 1, encoding: 'f32', tensors: [{ ...entry, scales: 1 }] }),
      'tensor a stored as f32 cannot have 1 scales',
    ],
  ])('%s', (_name, bytes, message) => {
    expect(() => decodeTensors(bytes)).toThrow(new PayloadFormatError(message));
  });

  it('an unknown field in the table is refused by the schema', () => {
    expect(() =>
      decodeTensors(withTable({ v: 1, encoding: 'f32', tensors: [{ ...entry, extra: 1 }] })),
    ).toThrow(/payload table is malformed: .*extra/s);
  });

  it('wrong names, wrong shapes and non-finite values are refused by the weight checks, naming the tensor', () => {
    const tensors = FADNET_PARAMS.map((p) => ({ name: p.name, shape: p.shape, data: weights.get(p.name)! }));
    const renamed = tensors.map((t, i) => (i === 0 ? { ...t, name: 'conv0.weight' } : t));
    expect(() => decodeWeights(encodeTensors(renamed, 'f32'))).toThrow(
      'unexpected tensor conv0.weight: FADNet has no such parameter',
    );
    const reshaped = tensors.map((t, i) => (i === 0 ? { ...t, shape: [32, 1, 25] } : t));
    expect(() => decodeWeights(encodeTensors(reshaped, 'int8'))).toThrow(
      'tensor conv1.weight has shape [32,1,25], expected [32,1,5,5]',
    );
    const nan = Float32Array.from(tensors[1]!.data);
    nan[3] = Number.NaN;
    const poisoned = tensors.map((t, i) => (i === 1 ? { ...t, data: nan } : t));
    expect(() => decodeWeights(encodeTensors(poisoned, 'f32'))).toThrow(
      'tensor conv1.bias has a non-finite value NaN at index 3',
    );
  });
});
