// One error class per failure kind (docs/style.md, "Errors"); each carries the offending data.

export type FrameErrorReason = 'overflow' | 'cobs' | 'short' | 'crc' | 'version' | 'unknown-type' | 'length';

/** A frame from the serial line that failed a check; it is dropped and never acted on. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  readonly reason: FrameErrorReason;
  /** The frame's bytes as received (COBS form, without the delimiter), at most 33 kept. */
  readonly raw: Uint8Array;

  constructor(reason: FrameErrorReason, detail: string, raw: Uint8Array) {
    super(`bad frame (${reason}): ${detail}; bytes ${hex(raw)}`);
    this.reason = reason;
    this.raw = raw;
  }
}

/** A message the encoder cannot represent (a field out of its wire range): a local bug. */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  readonly field: string;
  readonly value: number;

  constructor(messageType: string, field: string, value: number, range: string) {
    super(`${messageType}.${field} = ${value} is outside ${range}`);
    this.field = field;
    this.value = value;
  }
}

/** Bridge parameters that failed validation. */
export class BridgeParameterError extends Error {
  override readonly name = 'BridgeParameterError';
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`invalid bridge parameters: ${issues.join('; ')}`, options);
    this.issues = issues;
  }
}

/** The serial port could not be opened or failed while open. */
export class SerialLinkError extends Error {
  override readonly name = 'SerialLinkError';
  readonly path: string;

  constructor(path: string, what: string, options?: { cause?: unknown }) {
    super(`serial port ${path}: ${what}`, options);
    this.path = path;
  }
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}
