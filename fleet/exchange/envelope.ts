// An update on the wire: its signed envelope and the chunks that carry its payload. Pure
// (hashing and Ed25519 from node:crypto are computation, not I/O).
//
// Chunk message: "FXC1" | u32 header length | header JSON | chunk bytes. Every chunk carries the
// whole envelope and its signature, so a receiver verifies the signer on the first chunk it sees
// (whatever the order) and never buffers bytes from an unknown or forged sender. The signature
// covers the fleet, silo, round, counter, encoding, payload size, chunk count and the payload's
// sha256, so no field can be swapped between updates or fleets; each chunk's own sha256 catches
// a damaged chunk before reassembly, the payload's catches a wrong reassembly.

import { createHash, sign, verify, type KeyObject } from 'node:crypto';

import { z } from 'zod';

import { NAME_PATTERN } from './topics.ts';
import type { Encoding } from './types.ts';

/** What a silo signs about one update. */
export interface Envelope {
  readonly fleet: string;
  readonly silo: string;
  readonly round: number;
  readonly counter: number;
  readonly encoding: Encoding;
  /** Payload bytes. */
  readonly size: number;
  /** Number of chunks the payload travels in. */
  readonly count: number;
  /** sha256 of the whole payload, lowercase hex. */
  readonly sha256: string;
}

export interface ChunkHeader extends Envelope {
  readonly v: 1;
  /** Ed25519 signature of signingBytes(envelope), base64. */
  readonly sig: string;
  readonly index: number;
  /** Where this chunk's bytes start in the payload. */
  readonly offset: number;
  /** sha256 of this chunk's bytes, lowercase hex. */
  readonly chunkSha256: string;
}

export type ParsedChunk =
  | { readonly ok: true; readonly header: ChunkHeader; readonly data: Uint8Array }
  | {
      readonly ok: false;
      readonly reason: string;
      /** The header, when it parsed but the bytes after it were wrong. */
      readonly header?: ChunkHeader;
    };

const MAGIC = Uint8Array.from([0x46, 0x58, 0x43, 0x31]); // "FXC1"
const MAX_HEADER_BYTES = 4096;
/** Largest payload and chunk count a header may declare at all (receivers set tighter limits). */
export const MAX_DECLARED_SIZE = 2 ** 31 - 1;
export const MAX_DECLARED_CHUNKS = 65535;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const headerSchema = z
  .strictObject({
    v: z.literal(1),
    fleet: z.string().regex(NAME_PATTERN),
    silo: z.string().regex(NAME_PATTERN),
    round: count,
    counter: count,
    encoding: z.enum(['f32', 'f16', 'int8', 'int8-channel']),
    size: z.number().int().min(1).max(MAX_DECLARED_SIZE),
    count: z.number().int().min(1).max(MAX_DECLARED_CHUNKS),
    sha256: hex64,
    sig: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'a base64 Ed25519 signature'),
    index: z.number().int().min(0),
    offset: z.number().int().min(0),
    chunkSha256: hex64,
  })
  .refine((h) => h.index < h.count, { message: 'index must be below count', path: ['index'] })
  .refine((h) => h.offset < h.size, { message: 'offset must be below size', path: ['offset'] });

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The exact bytes a silo signs. Names cannot hold a newline, so the fields cannot run together. */
export function signingBytes(e: Envelope): Uint8Array {
  return new TextEncoder().encode(
    [
      'fadnet-fleet-update/v1',
      e.fleet,
      e.silo,
      e.round,
      e.counter,
      e.encoding,
      e.size,
      e.count,
      e.sha256,
    ].join('\n'),
  );
}

export function signEnvelope(e: Envelope, privateKey: KeyObject): string {
  return sign(null, signingBytes(e), privateKey).toString('base64');
}

export function verifyEnvelope(e: Envelope, sig: string, publicKey: KeyObject): boolean {
  return verify(null, signingBytes(e), publicKey, Buffer.from(sig, 'base64'));
}

export function envelopeOf(h: ChunkHeader): Envelope {
  const { fleet, silo, round, counter, encoding, size, count: n, sha256 } = h;
  return { fleet, silo, round, counter, encoding, size, count: n, sha256 };
}

export interface ChunkOptions {
  readonly fleet: string;
  readonly silo: string;
  readonly round: number;
  readonly counter: number;
  readonly encoding: Encoding;
  readonly payload: Uint8Array;
  readonly privateKey: KeyObject;
  /** Payload bytes per chunk. */
  readonly chunkBytes: number;
}

/** Signs an update and splits its payload into chunk messages, in index order. */
export function chunkUpdate(o: ChunkOptions): Uint8Array[] {
  if (!(Number.isInteger(o.chunkBytes) && o.chunkBytes >= 1)) {
    throw new RangeError(`chunkBytes must be a positive integer, got ${o.chunkBytes}`);
  }
  const n = Math.ceil(o.payload.length / o.chunkBytes);
  const envelope: Envelope = {
    fleet: o.fleet,
    silo: o.silo,
    round: o.round,
    counter: o.counter,
    encoding: o.encoding,
    size: o.payload.length,
    count: n,
    sha256: sha256Hex(o.payload),
  };
  const sig = signEnvelope(envelope, o.privateKey);
  const out: Uint8Array[] = [];
  for (let index = 0; index < n; index++) {
    const data = o.payload.subarray(index * o.chunkBytes, (index + 1) * o.chunkBytes);
    const header: ChunkHeader = {
      v: 1,
      ...envelope,
      sig,
      index,
      offset: index * o.chunkBytes,
      chunkSha256: sha256Hex(data),
    };
    out.push(encodeChunk(header, data));
  }
  return out;
}

export function encodeChunk(header: ChunkHeader, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Reads one chunk message; malformed bytes are a value with the reason, never an exception. */
export function parseChunk(bytes: Uint8Array): ParsedChunk {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    return { ok: false, reason: 'not a chunk: missing the "FXC1" magic' };
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (length > MAX_HEADER_BYTES || 8 + length > bytes.length) {
    return {
      ok: false,
      reason: `chunk header of ${length} bytes does not fit a ${bytes.length}-byte message`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length)));
  } catch (error) {
    return { ok: false, reason: `chunk header is not JSON (${(error as Error).message})` };
  }
  const parsed = headerSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      reason: `chunk header is malformed: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
    };
  }
  const header = parsed.data;
  const data = bytes.subarray(8 + length);
  if (header.offset + data.length > header.size) {
    return {
      ok: false,
      reason: `chunk ${header.index} of ${data.length} bytes at offset ${header.offset} overruns the ${header.size}-byte payload`,
      header,
    };
  }
  if (sha256Hex(data) !== header.chunkSha256) {
    return {
      ok: false,
      reason: `chunk ${header.index} of ${header.count}: sha256 mismatch (damaged or truncated)`,
      header,
    };
  }
  return { ok: true, header, data };
}
