import { describe, expect, it } from 'vitest';

import { FrameError, hex } from '../../firmware-bridge/errors.ts';
import type { DecodeResult, Message } from '../../firmware-bridge/protocol/index.ts';
import {
  cobsDecode,
  cobsEncode,
  crc16,
  encodeFrame,
  FrameDecoder,
} from '../../firmware-bridge/protocol/index.ts';

const GOLDEN: readonly [Message, number, string][] = [
  [{ type: 'hello', nonce: 0x12345678 }, 0, '03 01 01 07 78 56 34 12 f5 dc 00'],
  [{ type: 'wheel-cmd', leftMradS: 1000, rightMradS: -1000 }, 7, '0a 01 02 07 e8 03 18 fc 0b 59 00'],
  [
    { type: 'odometry', mcuMs: 20, leftTicks: -1, rightTicks: 256 },
    255,
    '05 01 82 ff 14 01 01 05 ff ff ff ff 02 01 01 03 e7 66 00',
  ],
];

function feed(decoder: FrameDecoder, bytes: Uint8Array | readonly number[]): DecodeResult[] {
  const out: DecodeResult[] = [];
  for (const b of bytes) {
    const r = decoder.push(b);
    if (r !== undefined) out.push(r);
  }
  return out;
}

describe('protocol codec', () => {
  it('computes CRC-16/CCITT-FALSE', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x29b1);
  });

  it('COBS round-trips zeros and long runs', () => {
    const input = Uint8Array.from([0, 1, 0, 0, ...new Array<number>(300).fill(7), 0]);
    const enc = new Uint8Array(400);
    const n = cobsEncode(input, input.length, enc);
    expect(enc.subarray(0, n).includes(0)).toBe(false);
    const dec = new Uint8Array(400);
    expect(cobsDecode(enc, n, dec)).toBe(input.length);
    expect(dec.subarray(0, input.length)).toEqual(input);
  });

  it.each(GOLDEN)('encodes the golden frame of %o (seq %i)', (message, seq, wire) => {
    expect(hex(encodeFrame(message, seq))).toBe(wire);
  });

  it('decodes byte by byte: nothing until the delimiter, then the exact frame', () => {
    const d = new FrameDecoder();
    for (const [message, seq] of GOLDEN) {
      const bytes = encodeFrame(message, seq);
      for (let i = 0; i < bytes.length - 1; i++) expect(d.push(bytes[i] as number)).toBeUndefined();
      expect(d.push(0)).toEqual({ ok: true, frame: { seq, message } });
    }
    expect(d.stats).toEqual({ bytes: 41, frames: 3, crcErrors: 0, otherErrors: 0, resyncs: 0 });
  });

  it('resynchronises after garbage and rejects a flipped bit with the CRC error text', () => {
    const d = new FrameDecoder();
    const good = encodeFrame({ type: 'heartbeat', hostMs: 5 }, 1);
    const bad = Uint8Array.from(encodeFrame({ type: 'wheel-cmd', leftMradS: 1000, rightMradS: -1000 }, 7));
    bad[4] = (bad[4] as number) ^ 0x01;
    const results = feed(d, [0x55, 0xaa, 0x13, 0x00, ...good, ...bad, ...good]);
    expect(results.map((r) => (r.ok ? r.frame.message.type : r.error.reason))).toEqual([
      'cobs',
      'heartbeat',
      'crc',
      'heartbeat',
    ]);
    const crc = results[2];
    expect(crc?.ok).toBe(false);
    if (crc !== undefined && !crc.ok) {
      expect(crc.error).toBeInstanceOf(FrameError);
      expect(crc.error.name).toBe('FrameError');
      expect(crc.error.message).toBe(
        'bad frame (crc): crc 0x2fbf computed, 0x590b in frame; bytes 0a 01 02 07 e9 03 18 fc 0b 59',
      );
    }
    expect(d.stats).toMatchObject({ frames: 2, crcErrors: 1, otherErrors: 1, resyncs: 2 });
  });

  it('drops an over-long run and names the wrong version and type', () => {
    const d = new FrameDecoder();
    const [overflow] = feed(d, [...new Array<number>(40).fill(0x11), 0]);
    expect(overflow?.ok === false && overflow.error.message).toBe(
      `bad frame (overflow): more than 33 bytes before a delimiter; bytes ${new Array(33).fill('11').join(' ')}`,
    );
    // Version 2 with a valid CRC.
    const body = Uint8Array.from([2, 0x01, 9, 1, 2, 3, 4, 0, 0]);
    new DataView(body.buffer).setUint16(7, crc16(body, 0, 7), true);
    const wire = new Uint8Array(12);
    const n = cobsEncode(body, 9, wire);
    const [version] = feed(d, [...wire.subarray(0, n), 0]);
    expect(version?.ok === false && version.error.reason).toBe('version');
    expect(version?.ok === false && version.error.message.split(';')[0]).toBe(
      'bad frame (version): protocol version 2, expected 1',
    );
    const typed = Uint8Array.from([1, 0x42, 9, 0, 0]);
    new DataView(typed.buffer).setUint16(3, crc16(typed, 0, 3), true);
    const n2 = cobsEncode(typed, 5, wire);
    const [unknown] = feed(d, [...wire.subarray(0, n2), 0]);
    expect(unknown?.ok === false && unknown.error.message.split(';')[0]).toBe(
      'bad frame (unknown-type): unknown message type 0x42',
    );
  });

  it('refuses to encode out-of-range fields', () => {
    expect(() => encodeFrame({ type: 'wheel-cmd', leftMradS: 40000, rightMradS: 0 }, 0)).toThrow(
      'wheel-cmd.leftMradS = 40000 is outside integers -32768..32767',
    );
    expect(() => encodeFrame({ type: 'estop', reason: 1 }, 256)).toThrow(
      'estop.seq = 256 is outside integers 0..255',
    );
  });
});
