// One class per way a release is refused. The agent never throws these at the robot: each
// becomes a logged reason in the robot's OTA status (`kind` and message) while the old model
// keeps driving. StoreError is the one for local trouble (a disk that refuses a write).

/** Why a release was refused, as the status message and `fadnet ota status` name it. */
export const REJECT_KINDS = [
  'bad_release',
  'wrong_fleet',
  'unknown_signer',
  'bad_signature',
  'downgrade',
  'corrupt_chunk',
  'artifact_hash',
  'bad_artifact',
  'load_failed',
  'golden_mismatch',
  'latency_budget',
] as const;
export type RejectKind = (typeof REJECT_KINDS)[number];

export abstract class ReleaseRejectedError extends Error {
  abstract readonly kind: RejectKind;
}

/** The release manifest is not JSON or fails its schema. */
export class ReleaseFormatError extends ReleaseRejectedError {
  override readonly name = 'ReleaseFormatError';
  readonly kind = 'bad_release';
}

/** A release for another fleet on this fleet's topic. */
export class WrongFleetError extends ReleaseRejectedError {
  override readonly name = 'WrongFleetError';
  readonly kind = 'wrong_fleet';
  constructor(
    readonly fleet: string,
    readonly expected: string,
  ) {
    super(`release is for fleet ${fleet}, this robot is in fleet ${expected}`);
  }
}

export class UnknownSignerError extends ReleaseRejectedError {
  override readonly name = 'UnknownSignerError';
  readonly kind = 'unknown_signer';
  constructor(
    readonly signer: string,
    readonly version: string,
  ) {
    super(`release ${version} is signed by ${signer}, which is not in this robot's trusted keys`);
  }
}

export class SignatureError extends ReleaseRejectedError {
  override readonly name = 'SignatureError';
  readonly kind = 'bad_signature';
  constructor(
    readonly signer: string,
    readonly version: string,
  ) {
    super(`release ${version}: the signature does not verify against ${signer}'s trusted key`);
  }
}

export class DowngradeError extends ReleaseRejectedError {
  override readonly name = 'DowngradeError';
  readonly kind = 'downgrade';
  constructor(
    readonly version: string,
    readonly active: string,
  ) {
    super(`release ${version} is not newer than the active ${active} and does not allow a downgrade`);
  }
}

export class ChunkHashError extends ReleaseRejectedError {
  override readonly name = 'ChunkHashError';
  readonly kind = 'corrupt_chunk';
  constructor(
    readonly version: string,
    readonly index: number,
    readonly count: number,
    readonly actual: string,
  ) {
    super(
      `release ${version}: chunk ${index} of ${count} has sha256 ${actual.slice(0, 12)}…, not the signed one`,
    );
  }
}

export class ArtifactHashError extends ReleaseRejectedError {
  override readonly name = 'ArtifactHashError';
  readonly kind = 'artifact_hash';
  constructor(
    readonly version: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `release ${version}: the artifact's sha256 is ${actual.slice(0, 12)}…, the release says ${expected.slice(0, 12)}…`,
    );
  }
}

/** The artifact's bytes are not a model bundle, or its package is not the one released. */
export class BundleFormatError extends ReleaseRejectedError {
  override readonly name = 'BundleFormatError';
  readonly kind = 'bad_artifact';
}

export class ModelLoadError extends ReleaseRejectedError {
  override readonly name = 'ModelLoadError';
  readonly kind = 'load_failed';
  constructor(
    readonly version: string,
    options?: ErrorOptions,
  ) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message.split('\n')[0]}` : '';
    super(`release ${version} does not load in ONNX Runtime${cause}`, options);
  }
}

export class GoldenMismatchError extends ReleaseRejectedError {
  override readonly name = 'GoldenMismatchError';
  readonly kind = 'golden_mismatch';
  constructor(
    readonly version: string,
    readonly index: number,
    readonly expected: number,
    readonly actual: number,
    readonly tolerance: number,
  ) {
    super(
      `release ${version}: golden input ${index} gives ${actual.toFixed(6)}, expected ${expected.toFixed(6)} (tolerance ${tolerance})`,
    );
  }
}

export class LatencyBudgetError extends ReleaseRejectedError {
  override readonly name = 'LatencyBudgetError';
  readonly kind = 'latency_budget';
  constructor(
    readonly version: string,
    readonly p99Ms: number,
    readonly budgetMs: number,
  ) {
    super(`release ${version}: inference p99 ${p99Ms.toFixed(3)} ms is over the budget of ${budgetMs} ms`);
  }
}

/** The model store on disk cannot be read or written as it must be. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly store: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`model store ${store}: ${detail}`, options);
  }
}
