// Typed errors of the dataset reader. A bad file is the caller's to handle (it was asked for);
// a bad message inside a good file is skipped, counted and logged, and reading carries on.

/** A recording that cannot be read as an indexed ROS 2 MCAP file, or lacks what was asked for. */
export class DatasetFileError extends Error {
  override readonly name = 'DatasetFileError';
  constructor(
    message: string,
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Why a message was skipped: undecodable CDR, a frame preprocessing rejects, a non-finite label. */
export type SkipReason = 'bad-cdr' | 'bad-frame' | 'bad-label';

export class DatasetMessageError extends Error {
  override readonly name = 'DatasetMessageError';
  constructor(
    readonly reason: SkipReason,
    message: string,
    readonly file: string,
    readonly topic: string,
    readonly logTimeNs: bigint,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
