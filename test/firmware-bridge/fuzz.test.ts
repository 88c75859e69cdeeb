// 2^20 bytes of random and mutated input through the decoder, one byte at a time: it never
// throws, never accepts a frame whose CRC is wrong, and never yields a frame that was not sent.
import { describe, expect, it } from 'vitest';

import type { Message } from '../../firmware-bridge/protocol/index.ts';
import { cobsDecode, encodeFrame, FrameDecoder } from '../../firmware-bridge/protocol/index.ts';
import { mulberry32 } from '../../common/index.ts';

const rng = mulberry32; // seeded: every run sees the same data

/** Bitwise CRC-16/CCITT-FALSE written independently of the table-driven one under test. */
function referenceCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function randomMessage(r: () => number): Message {
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  switch (int(0, 4)) {
    case 0:
      return { type: 'wheel-cmd', leftMradS: int(-32768, 32767), rightMradS: int(-32768, 32767) };
    case 1:
      return { type: 'heartbeat', hostMs: int(0, 0xffffffff) };
    case 2:
      return {
        type: 'odometry',
        mcuMs: int(0, 0xffffffff),
        leftTicks: int(-1e9, 1e9),
        rightTicks: int(-1e9, 1e9),
      };
    case 3:
      return { type: 'estop', reason: int(0, 255) };
    default:
      return { type: 'hello', nonce: int(0, 0xffffffff) };
  }
}

const TOTAL = 1 << 20;

describe('decoder fuzz', () => {
  it(`survives ${TOTAL} random and mutated bytes fed one at a time`, () => {
    const r = rng(0x5eed);
    const sent = new Set<string>();
    const stream = new Uint8Array(TOTAL);
    let n = 0;
    // First half: uniformly random bytes. Second half: valid frames with bit flips, dropped
    // bytes and inserted bytes, about one mutation per 60 bytes.
    for (; n < TOTAL / 2; n++) stream[n] = Math.floor(r() * 256);
    while (n < TOTAL) {
      const seq = Math.floor(r() * 256);
      const message = randomMessage(r);
      sent.add(JSON.stringify({ seq, message }));
      for (const byte of encodeFrame(message, seq)) {
        if (n >= TOTAL) break;
        const dice = r();
        if (dice < 0.005) continue; // dropped
        if (dice < 0.01) stream[n++] = Math.floor(r() * 256); // inserted
        if (n >= TOTAL) break;
        stream[n++] = dice < 0.017 ? byte ^ (1 << Math.floor(r() * 8)) : byte;
      }
    }

    const decoder = new FrameDecoder();
    const raw = new Uint8Array(64);
    const body = new Uint8Array(64);
    let rawLength = 0;
    let accepted = 0;
    let rejected = 0;
    const started = performance.now();
    for (let i = 0; i < TOTAL; i++) {
      const byte = stream[i] as number;
      const result = decoder.push(byte);
      if (byte !== 0) {
        if (rawLength < raw.length) raw[rawLength] = byte;
        rawLength++;
        continue;
      }
      if (result !== undefined) {
        if (result.ok) {
          accepted++;
          expect(sent.has(JSON.stringify(result.frame))).toBe(true);
          const len = cobsDecode(raw, rawLength, body);
          const crc = (body[len - 2] as number) | ((body[len - 1] as number) << 8);
          expect(referenceCrc(body.subarray(0, len - 2))).toBe(crc);
        } else rejected++;
      }
      rawLength = 0;
    }
    const ms = performance.now() - started;
    console.log(
      `fuzz: ${TOTAL} bytes in ${ms.toFixed(0)} ms, ${accepted} frames accepted, ${rejected} rejected`,
    );
    expect(decoder.stats.bytes).toBe(TOTAL);
    expect(decoder.stats.frames).toBe(accepted);
    expect(accepted).toBeGreaterThan(20_000);
    expect(decoder.stats.crcErrors).toBeGreaterThan(1000);
    expect(decoder.stats.crcErrors + decoder.stats.otherErrors).toBe(rejected);
  });
});
