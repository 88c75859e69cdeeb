// A release: the signed manifest that tells a robot what to fetch and how to judge it. Pure.
//
// The manifest lists the artifact's size, sha256 and every chunk's sha256, so each chunk is
// checked the moment it arrives (a chunk needs no header of its own: its topic names the
// artifact and the index) and the whole file once assembled. The Ed25519 signature covers all
// of it, the golden outputs, tolerance, latency budget, probation thresholds and the downgrade
// flag included: no field can be changed without the signer's key.
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { PlainFileName, SemanticVersion } from '../../models/src/manifest.ts';
import { sha256Hex, type TrustedKeys } from '../exchange/index.ts';
import { NAME_PATTERN } from '../exchange/topics.ts';
import {
  DowngradeError,
  ReleaseFormatError,
  SignatureError,
  UnknownSignerError,
  WrongFleetError,
} from './errors.ts';
import { compareVersions } from './version.ts';

export const RELEASE_SIGNING_CONTEXT = 'fadnet-ota-release/v1';
/** Refused before anything is fetched: far above a FADNet package (about 4 MB with its golden inputs). */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;
export const MAX_CHUNKS = 16_384;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const Name = z.string().regex(NAME_PATTERN, '1-64 letters, digits, - or _');

const unsignedShape = {
  v: z.literal(1),
  fleet: Name,
  /** The model package's name (its files are <name>.onnx, ...). */
  name: PlainFileName,
  version: SemanticVersion,
  /** Key id in the robot's trusted keys. */
  signer: Name,
  createdAt: z.number().int().nonnegative(),
  /** Install even when not newer than the active model. */
  allowDowngrade: z.boolean(),
  artifact: z
    .strictObject({
      bytes: z.number().int().min(1).max(MAX_ARTIFACT_BYTES),
      sha256: Sha256,
      chunkBytes: z
        .number()
        .int()
        .min(1024)
        .max(16 * 1024 * 1024),
      chunks: z.array(Sha256).min(1).max(MAX_CHUNKS),
    })
    .refine((a) => a.chunks.length === Math.ceil(a.bytes / a.chunkBytes), {
      message: 'chunks must list ceil(bytes / chunkBytes) hashes',
      path: ['chunks'],
    }),
  golden: z
    .strictObject({
      /** The steering value each golden input gives, in the bundle's golden.f32 order. */
      expected: z.array(z.number().finite()).min(1).max(256),
      tolerance: z.number().positive(),
    })
    .strict(),
  /** p99 of one inference on the robot's providers, in ms. */
  latencyBudgetMs: z.number().positive(),
  probation: z.strictObject({
    /** Seconds of driving the steering node must report healthy before the update is kept. */
    seconds: z.number().min(0).max(86_400),
    /** Largest steering jitter (mean |change| per frame) accepted. */
    maxJitter: z.number().positive(),
  }),
};

export const UnsignedReleaseSchema = z.strictObject(unsignedShape);
export type UnsignedRelease = z.infer<typeof UnsignedReleaseSchema>;

export const ReleaseSchema = z.strictObject({
  ...unsignedShape,
  sig: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'a base64 Ed25519 signature'),
});
export type Release = z.infer<typeof ReleaseSchema>;

/** The exact bytes a release signer signs: every field but the signature, in a fixed order. */
export function releaseSigningBytes(r: UnsignedRelease): Uint8Array {
  const fields = [
    r.v,
    r.fleet,
    r.name,
    r.version,
    r.signer,
    r.createdAt,
    r.allowDowngrade,
    [r.artifact.bytes, r.artifact.sha256, r.artifact.chunkBytes, r.artifact.chunks],
    [r.golden.expected, r.golden.tolerance],
    r.latencyBudgetMs,
    [r.probation.seconds, r.probation.maxJitter],
  ];
  return new TextEncoder().encode(`${RELEASE_SIGNING_CONTEXT}\n${JSON.stringify(fields)}`);
}

export function signRelease(r: UnsignedRelease, privateKey: KeyObject): Release {
  const unsigned = UnsignedReleaseSchema.parse(r); // a bad local release is a programming error
  return { ...unsigned, sig: sign(null, releaseSigningBytes(unsigned), privateKey).toString('base64') };
}

/** The artifact's chunks: `chunkBytes` each, the last one shorter. */
export function splitArtifact(artifact: Uint8Array, chunkBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < artifact.length; at += chunkBytes) out.push(artifact.subarray(at, at + chunkBytes));
  return out;
}

/** The artifact fields of a release for these bytes. */
export function describeArtifact(artifact: Uint8Array, chunkBytes: number): UnsignedRelease['artifact'] {
  return {
    bytes: artifact.byteLength,
    sha256: sha256Hex(artifact),
    chunkBytes,
    chunks: splitArtifact(artifact, chunkBytes).map(sha256Hex),
  };
}

/**
 * A release message as a robot receives it: parsed against the schema, for this fleet, from a
 * trusted signer, with a signature that verifies. Throws the ReleaseRejectedError that says why not.
 */
export function checkRelease(payload: Uint8Array, fleet: string, trusted: TrustedKeys): Release {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (error) {
    throw new ReleaseFormatError('release manifest is not JSON', { cause: error });
  }
  const parsed = ReleaseSchema.safeParse(json);
  if (!parsed.success) {
    throw new ReleaseFormatError(
      `release manifest is malformed: ${z
        .prettifyError(parsed.error)
        .replace(/\n\s*→ at /g, ' at ')
        .replace(/\n/g, '; ')}`,
      { cause: parsed.error },
    );
  }
  const r = parsed.data;
  if (r.fleet !== fleet) throw new WrongFleetError(r.fleet, fleet);
  const key = trusted.get(r.signer);
  if (key === undefined) throw new UnknownSignerError(r.signer, r.version);
  if (!verify(null, releaseSigningBytes(r), key, Buffer.from(r.sig, 'base64')))
    throw new SignatureError(r.signer, r.version);
  return r;
}

/** What a verified release means for a robot running `active`. */
export type UpgradeVerdict = 'install' | 'current';

/** Throws DowngradeError for a release not newer than `active` unless it allows a downgrade. */
export function upgradeVerdict(r: Release, active: { readonly version: string } | undefined): UpgradeVerdict {
  if (active === undefined) return 'install';
  const order = compareVersions(r.version, active.version);
  if (order === 0 && r.version === active.version) return 'current';
  if (order <= 0 && !r.allowDowngrade) throw new DowngradeError(r.version, active.version);
  return 'install';
}
