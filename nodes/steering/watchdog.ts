// The deadline watchdog: decides, from time and facts alone, whether the robot may drive.
// Pure: the node feeds it frame stamps, arrivals and inference timing from its injected clock.

export type StopReason =
  | 'clock_not_started'
  | 'clock_jumped_back'
  | 'disabled'
  | 'no_frames'
  | 'stale_frame'
  | 'frame_from_future'
  | 'inference_deadline'
  | 'inference_error';

/** Reasons that put the clock itself in doubt: a stop timed on that clock cannot be trusted. */
export const CLOCK_FAULTS: ReadonlySet<StopReason> = new Set([
  'clock_not_started',
  'clock_jumped_back',
  'frame_from_future',
]);

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
  /** False while the node clock follows /clock and none has come: `now` is 0, not a time. */
  readonly clockStarted: boolean;
  /** Set after the clock jumped back, until a frame stamped after the jump has been judged. */
  readonly clockJumpedBackMs: number | undefined;
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
  // Clock checks come first: every age below is measured on this clock. A clock that has not
  // started says nothing about how old a frame is. One that jumped back means the world restarted
  // (a simulator reset, a bag looping): frames and commands from before belong to a world that is
  // gone, and ages computed across the jump are meaningless.
  if (!i.clockStarted) {
    return {
      drive: false,
      reason: 'clock_not_started',
      detail: 'the node clock has not started (use_sim_time: no /clock message yet)',
    };
  }
  if (i.clockJumpedBackMs !== undefined) {
    return {
      drive: false,
      reason: 'clock_jumped_back',
      detail: `the clock jumped back ${i.clockJumpedBackMs.toFixed(0)} ms; waiting for a frame stamped after the jump`,
    };
  }
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
