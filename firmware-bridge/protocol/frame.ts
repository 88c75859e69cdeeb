// Frame encoder and byte-at-a-time decoder (PROTOCOL.md, "Framing"). No I/O: the serial
// adapter feeds bytes in, the bridge core reads frames out.

import { FrameError } from '../errors.ts';
import { EncodeError } from '../errors.ts';
import { cobsDecode, cobsEncode } from './cobs.ts';
import { crc16 } from './crc16.ts';
import type { Frame, Message } from './messages.ts';
import { MAX_PAYLOAD, PAYLOAD_LENGTH, PROTOCOL_VERSION, readPayload, writePayload } from './messages.ts';

const HEADER = 3;
const TRAILER = 2;
const MIN_BODY = HEADER + TRAILER;
export const MAX_BODY = HEADER + MAX_PAYLOAD + TRAILER;
/** COBS adds one byte per 254 plus one; bodies are at most 32 bytes. */
export const MAX_ENCODED = 33;

const RANGES: Record<string, readonly [number, number]> = {
  nonce: [0, 0xffffffff],
  hostMs: [0, 0xffffffff],
  mcuMs: [0, 0xffffffff],
  leftMradS: [-32768, 32767],
  rightMradS: [-32768, 32767],
  leftTicks: [-0x80000000, 0x7fffffff],
  rightTicks: [-0x80000000, 0x7fffffff],
  ticksPerRev: [0, 0xffff],
  millivolts: [0, 0xffff],
  faults: [0, 0xffff],
  rxCrcErrors: [0, 0xffff],
  rxFrames: [0, 0xffff],
};

function checkRanges(message: Message): void {
  for (const [field, value] of Object.entries(message)) {
    if (field === 'type') continue;
    const [lo, hi] = RANGES[field] ?? [0, 0xff];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi)
      throw new EncodeError(message.type, field, Number(value), `integers ${lo}..${hi}`);
  }
}

/** Encodes one frame, delimiter included. Throws EncodeError for out-of-range fields. */
export function encodeFrame(message: Message, seq: number): Uint8Array {
  checkRanges(message);
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xff)
    throw new EncodeError(message.type, 'seq', seq, 'integers 0..255');
  const body = new Uint8Array(MAX_BODY);
  const view = new DataView(body.buffer);
  const type = writePayload(message, view, HEADER);
  const length = HEADER + (PAYLOAD_LENGTH.get(type) as number);
  body[0] = PROTOCOL_VERSION;
  body[1] = type;
  body[2] = seq;
  view.setUint16(length, crc16(body, 0, length), true);
  const out = new Uint8Array(MAX_ENCODED + 1);
  const encoded = cobsEncode(body, length + TRAILER, out);
  out[encoded] = 0;
  return out.slice(0, encoded + 1);
}

export type DecodeResult =
  { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly error: FrameError };

export interface DecoderStats {
  /** Bytes fed in. */
  bytes: number;
  /** Frames that passed every check. */
  frames: number;
  /** Frames dropped for a bad CRC. */
  crcErrors: number;
  /** Frames dropped for any other reason (COBS, length, version, type, overflow). */
  otherErrors: number;
  /** Times the decoder dropped data and waited for the next delimiter to get back in sync. */
  resyncs: number;
}

/**
 * Feed with `push(byte)`; it returns a result when a delimiter completes a frame. It never
 * throws on input: every malformed frame becomes a FrameError value.
 */
export class FrameDecoder {
  readonly #raw = new Uint8Array(MAX_ENCODED);
  readonly #body = new Uint8Array(MAX_ENCODED);
  readonly #view = new DataView(this.#body.buffer);
  #length = 0;
  #overflowed = false;
  readonly stats: DecoderStats = { bytes: 0, frames: 0, crcErrors: 0, otherErrors: 0, resyncs: 0 };

  push(byte: number): DecodeResult | undefined {
    this.stats.bytes++;
    if (byte !== 0) {
      if (this.#length < MAX_ENCODED) this.#raw[this.#length++] = byte;
      else this.#overflowed = true;
      return undefined;
    }
    if (this.#length === 0 && !this.#overflowed) return undefined;
    const result = this.#finish();
    this.#length = 0;
    this.#overflowed = false;
    if (result.ok) this.stats.frames++;
    else {
      if (result.error.reason === 'crc') this.stats.crcErrors++;
      else this.stats.otherErrors++;
      this.stats.resyncs++;
    }
    return result;
  }

  /** Drops a partly received frame, e.g. after the port was reopened. */
  reset(): void {
    this.#length = 0;
    this.#overflowed = false;
  }

  #fail(reason: FrameError['reason'], detail: string): DecodeResult {
    return { ok: false, error: new FrameError(reason, detail, this.#raw.slice(0, this.#length)) };
  }

  #finish(): DecodeResult {
    if (this.#overflowed) return this.#fail('overflow', `more than ${MAX_ENCODED} bytes before a delimiter`);
    const n = cobsDecode(this.#raw, this.#length, this.#body);
    if (n < 0) return this.#fail('cobs', 'invalid COBS encoding');
    if (n < MIN_BODY) return this.#fail('short', `${n} bytes, at least ${MIN_BODY} needed`);
    const body = this.#body;
    const expected = this.#view.getUint16(n - TRAILER, true);
    const actual = crc16(body, 0, n - TRAILER);
    if (expected !== actual)
      return this.#fail('crc', `crc ${hex16(actual)} computed, ${hex16(expected)} in frame`);
    const version = body[0] as number;
    if (version !== PROTOCOL_VERSION)
      return this.#fail('version', `protocol version ${version}, expected ${PROTOCOL_VERSION}`);
    const type = body[1] as number;
    const payloadLength = PAYLOAD_LENGTH.get(type);
    if (payloadLength === undefined)
      return this.#fail('unknown-type', `unknown message type 0x${type.toString(16)}`);
    if (n !== HEADER + payloadLength + TRAILER)
      return this.#fail(
        'length',
        `type 0x${type.toString(16)} with ${n - HEADER - TRAILER} payload bytes, expected ${payloadLength}`,
      );
    const message = readPayload(type, this.#view, HEADER);
    if (message === undefined)
      return this.#fail('unknown-type', `unknown message type 0x${type.toString(16)}`);
    return { ok: true, frame: { seq: body[2] as number, message } };
  }
}

function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}
