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
