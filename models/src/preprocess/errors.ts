/** Why a frame was rejected; callers switch on this to count or log skipped frames by kind. */
export type FrameErrorReason =
  | 'unknown-encoding'
  | 'unknown-format'
  | 'zero-size'
  | 'invalid-size'
  | 'odd-width'
  | 'step-too-small'
  | 'truncated'
  | 'undecodable';

/**
 * A camera frame that cannot be turned into a model input. Frames come from a peer (a camera
 * driver, a bag, a bridge), so this is an expected, per-frame failure: the caller skips the
 * frame and carries on.
 */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  readonly reason: FrameErrorReason;

  constructor(reason: FrameErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}
