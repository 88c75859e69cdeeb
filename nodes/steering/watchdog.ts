// The deadline watchdog: decides, from time and facts alone, whether the robot may drive.
// Pure: the node feeds it frame stamps, arrivals and inference timing from its injected clock.

export type StopReason =
  'disabled' | 'no_frames' | 'stale_frame' | 'frame_from_future' | 'inference_deadline' | 'inference_error';

export interface WatchdogParams {
  /** A frame older than this (from its header stamp) is stale. */
  readonly maxFrameAgeMs: number;
  /** An inference running longer than this has missed its deadline. */
  readonly inferenceDeadlineMs: number;
  /** Stamps this far ahead of our clock mean a clock jump: the age cannot be trusted. */
  readonly futureToleranceMs: number;
}

export interface WatchdogInputs {
  readonly now: number;
  readonly enabled: boolean;
  /** Header stamp (ms) of the newest frame a command was computed from, if any. */
  readonly lastCommandFrameStamp: number | undefined;
  /** When the running inference started, if one is running. */
  readonly inferenceStartedAt: number | undefined;
  readonly lastInferenceFailed: boolean;
}

export type Verdict =
  { readonly drive: true } | { readonly drive: false; readonly reason: StopReason; readonly detail: string };

export function judge(i: WatchdogInputs, p: WatchdogParams): Verdict {
  if (!i.enabled) return { drive: false, reason: 'disabled', detail: 'autonomous driving is disabled' };
  if (i.inferenceStartedAt !== undefined && i.now - i.inferenceStartedAt > p.inferenceDeadlineMs) {
    return {
      drive: false,
      reason: 'inference_deadline',
      detail: `inference running for ${(i.now - i.inferenceStartedAt).toFixed(0)} ms, deadline ${p.inferenceDeadlineMs} ms`,
    };
  }
  if (i.lastInferenceFailed)
    return { drive: false, reason: 'inference_error', detail: 'the last inference failed' };
  if (i.lastCommandFrameStamp === undefined)
    return { drive: false, reason: 'no_frames', detail: 'no camera frame yet' };
  const age = i.now - i.lastCommandFrameStamp;
  if (age < -p.futureToleranceMs) {
    return {
      drive: false,
      reason: 'frame_from_future',
      detail: `newest frame is stamped ${(-age).toFixed(0)} ms in the future (clock jump?)`,
    };
  }
  if (age > p.maxFrameAgeMs) {
    return {
      drive: false,
      reason: 'stale_frame',
      detail: `newest frame is ${age.toFixed(0)} ms old, limit ${p.maxFrameAgeMs} ms`,
    };
  }
  return { drive: true };
}
