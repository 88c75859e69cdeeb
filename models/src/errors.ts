// Typed errors of the model core. Each names what was wrong and keeps the original error as
// `cause`, so a caller can decide (skip a frame, reject an update, keep the old model).

export class WeightError extends Error {
  override readonly name = 'WeightError';
  constructor(
    message: string,
    /** The tensor the error is about, when there is one. */
    readonly tensor?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class SafetensorsFormatError extends Error {
  override readonly name = 'SafetensorsFormatError';
}

export class OnnxExportError extends Error {
  override readonly name = 'OnnxExportError';
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

export class InferenceError extends Error {
  override readonly name = 'InferenceError';
}

export class TensorFileError extends Error {
  override readonly name = 'TensorFileError';
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

export type AllReduceFailure = 'timeout' | 'aborted' | 'length-mismatch';

/**
 * A cross-replica reduction could not complete: a rank waited past the timeout (its peer is
 * dead or stuck), a rank aborted the group, or the ranks contributed different lengths.
 */
export class AllReduceError extends Error {
  override readonly name = 'AllReduceError';
  constructor(
    message: string,
    readonly reason: AllReduceFailure,
    /** The rank that raised this error. */
    readonly rank: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A training replica in a worker thread failed to start, failed a step, or exited. */
export class ReplicaError extends Error {
  override readonly name = 'ReplicaError';
  constructor(
    message: string,
    /** The failing replica's rank. */
    readonly rank: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An input size FADNet cannot take, or a frame or tensor whose size is not the model's. */
export class InputSizeError extends Error {
  override readonly name = 'InputSizeError';
  constructor(
    message: string,
    /** The offending size (height, width in pixels). */
    readonly size: { readonly height: number; readonly width: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
