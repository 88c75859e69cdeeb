// The signed messages of plan agreement: a silo's measurement row and a plan proposal that
// carries the whole measurement set it was computed from. Pure (zod, sha256 and Ed25519 from
// node:crypto are computation, not I/O). Signatures cover canonical bytes built from the fields
// in a fixed order, never the JSON text as it arrived, so a re-serialising broker or a
// reordered object cannot change what was signed.

import { createHash, sign, verify } from 'node:crypto';

import { z } from 'zod';

import type { SiloKeys, TrustedKeys } from '../exchange/keys.ts';
import { NAME_PATTERN } from '../exchange/topics.ts';
import type { LinkMeasurement } from './measure.ts';

const id = z.string().regex(NAME_PATTERN, "a silo id is 1-64 letters, digits, '-' or '_'");
const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const signature = z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'a base64 Ed25519 signature');

const linkSchema = z.strictObject({
  to: id,
  rttMs: z.number().int().min(1).max(3_600_000),
  bps: z.number().int().min(1).max(1e15),
});

export const rowSchema = z
  .strictObject({
    v: z.literal(1),
    fleet: id,
    silo: id,
    /** Grows with every row the silo publishes; the newest row of a silo wins. */
    seq: counter,
    links: z.array(linkSchema).min(1).max(256),
    sig: signature,
  })
  .refine((r) => r.links.every((l, i) => l.to !== r.silo && (i === 0 || r.links[i - 1]!.to < l.to)), {
    message: 'links must be sorted by peer id, once each, and never to the silo itself',
    path: ['links'],
  });

export type MeasurementRow = z.infer<typeof rowSchema>;

export const proposalSchema = z
  .strictObject({
    v: z.literal(1),
    fleet: id,
    /** The proposing silo, whose key signs the proposal. */
    silo: id,
    seq: counter,
    /** Version of the measurement set: one more than the newest proposal the proposer knew. */
    epoch: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    /** The first round the plan is used in, on every silo. */
    activationRound: counter,
    /** The measurement set, one signed row per silo, sorted by silo id. */
    rows: z.array(rowSchema).min(2).max(256),
    setHash: hex64,
    planHash: hex64,
    sig: signature,
  })
  .refine((p) => p.rows.every((r, i) => i === 0 || p.rows[i - 1]!.silo < r.silo), {
    message: 'rows must be sorted by silo id, one per silo',
    path: ['rows'],
  });

export type PlanProposal = z.infer<typeof proposalSchema>;

export type Verdict<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export const sha256Hex = (bytes: string | Uint8Array): string =>
  createHash('sha256').update(bytes).digest('hex');

export function rowSigningBytes(r: Omit<MeasurementRow, 'sig' | 'v'>): Buffer {
  const links = r.links.map((l) => [l.to, l.rttMs, l.bps]);
  return Buffer.from(`fadnet-fleet-measurements/v1\n${JSON.stringify([r.fleet, r.silo, r.seq, links])}`);
}

export function proposalSigningBytes(p: Omit<PlanProposal, 'sig' | 'v' | 'rows'>): Buffer {
  const fields = [p.fleet, p.silo, p.seq, p.epoch, p.activationRound, p.setHash, p.planHash];
  return Buffer.from(`fadnet-fleet-plan-proposal/v1\n${JSON.stringify(fields)}`);
}

/** The hash that names a measurement set: every row's signed bytes, in silo order. */
export function setHashOf(rows: readonly MeasurementRow[]): string {
  return sha256Hex(rows.map((r) => rowSigningBytes(r).toString('base64')).join('\n'));
}

/** A proposal's identity, the tie-breaker between proposals for the same round. */
export const proposalId = (p: PlanProposal): string => sha256Hex(proposalSigningBytes(p));

export function signRow(
  fields: { fleet: string; silo: string; seq: number; links: readonly LinkMeasurement[] },
  keys: SiloKeys,
): MeasurementRow {
  const unsigned = { fleet: fields.fleet, silo: fields.silo, seq: fields.seq, links: [...fields.links] };
  const sig = sign(null, rowSigningBytes(unsigned), keys.privateKey).toString('base64');
  return { v: 1, ...unsigned, sig };
}

export function signProposal(fields: Omit<PlanProposal, 'sig' | 'v'>, keys: SiloKeys): PlanProposal {
  const sig = sign(null, proposalSigningBytes(fields), keys.privateKey).toString('base64');
  return { v: 1, ...fields, sig };
}

function zodReason(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length === 0 ? '(root)' : i.path.join('.')}: ${i.message}`)
    .join('; ');
}

function checkSigner(
  kind: string,
  fleet: string,
  silo: string,
  expectFleet: string,
  bytes: Buffer,
  sig: string,
  trusted: TrustedKeys,
): string | undefined {
  if (fleet !== expectFleet) return `${kind} of silo ${silo} is for fleet "${fleet}", not "${expectFleet}"`;
  const key = trusted.get(silo);
  if (key === undefined) return `${kind} signed by unknown silo "${silo}"`;
  if (!verify(null, bytes, key, Buffer.from(sig, 'base64'))) return `${kind} of silo ${silo}: bad signature`;
  return undefined;
}

function verifiedRow(row: MeasurementRow, fleet: string, trusted: TrustedKeys): string | undefined {
  return checkSigner('measurement row', row.fleet, row.silo, fleet, rowSigningBytes(row), row.sig, trusted);
}

/** Checks a row that arrived on silo `topicSilo`'s topic: schema, fleet, signer, signature. */
export function verifyRow(
  json: unknown,
  topicSilo: string,
  fleet: string,
  trusted: TrustedKeys,
): Verdict<MeasurementRow> {
  const parsed = rowSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `malformed measurement row: ${zodReason(parsed.error)}` };
  const row = parsed.data;
  if (row.silo !== topicSilo) {
    return { ok: false, reason: `measurement row of silo ${row.silo} on silo ${topicSilo}'s topic` };
  }
  const bad = verifiedRow(row, fleet, trusted);
  return bad === undefined ? { ok: true, value: row } : { ok: false, reason: bad };
}

/**
 * Checks a proposal: schema, the proposer's signature, every row's signature and the set's hash.
 * The plan hash is checked by whoever computes the plan (it needs the planner).
 */
export function verifyProposal(
  json: unknown,
  topicSilo: string,
  fleet: string,
  trusted: TrustedKeys,
): Verdict<PlanProposal> {
  const parsed = proposalSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `malformed plan proposal: ${zodReason(parsed.error)}` };
  const p = parsed.data;
  if (p.silo !== topicSilo)
    return { ok: false, reason: `plan proposal of silo ${p.silo} on silo ${topicSilo}'s topic` };
  const bad = checkSigner('plan proposal', p.fleet, p.silo, fleet, proposalSigningBytes(p), p.sig, trusted);
  if (bad !== undefined) return { ok: false, reason: bad };
  for (const row of p.rows) {
    const badRow = verifiedRow(row, fleet, trusted);
    if (badRow !== undefined) return { ok: false, reason: `plan proposal of silo ${p.silo}: ${badRow}` };
  }
  const hash = setHashOf(p.rows);
  if (hash !== p.setHash) {
    return {
      ok: false,
      reason: `plan proposal of silo ${p.silo}: set hash ${p.setHash} but its rows hash to ${hash}`,
    };
  }
  return { ok: true, value: p };
}
