// Typed errors of the recorder; each names the file or topic and keeps the original error as `cause`.

/** The recording file could not be opened, written or finished, or was used after close. */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
  constructor(
    message: string,
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A message could not be CDR-encoded as the type it was recorded under. */
export class SerializationError extends Error {
  override readonly name = 'SerializationError';
  constructor(
    message: string,
    readonly topic: string,
    readonly type: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
