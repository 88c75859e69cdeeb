// Probation after an update: the steering node's health reports (nodes/steering/health.ts) decide
// whether the new model stays. Pure: a report, the criteria and a time in, a verdict out.
import type { SteeringHealth } from '../../nodes/steering/health.ts';

export const ROLLBACK_KINDS = [
  'inference_errors',
  'latency',
  'watchdog_stops',
  'jitter',
  'not_serving',
] as const;
export type RollbackKind = (typeof ROLLBACK_KINDS)[number];

export interface ProbationCriteria {
  /** `name@version` the steering node must report. */
  readonly model: string;
  /** Wall ms when the pointer moved to the new model. */
  readonly since: number;
  readonly seconds: number;
  readonly latencyBudgetMs: number;
  readonly maxJitter: number;
  /** How long the steering node may take to load the model and report it (wall ms). */
  readonly loadGraceMs: number;
}

/** Results before the jitter figure counts: a window of fewer frames says little. */
export const MIN_FRAMES_FOR_JITTER = 10;

export type ProbationVerdict =
  | { readonly verdict: 'wait'; readonly detail: string }
  | { readonly verdict: 'pass'; readonly detail: string }
  | { readonly verdict: 'fail'; readonly kind: RollbackKind; readonly reason: string };

export function judgeProbation(
  report: SteeringHealth | undefined,
  c: ProbationCriteria,
  now: number,
): ProbationVerdict {
  const serving = report !== undefined && report.model === c.model && report.since >= c.since - 1000;
  if (!serving) {
    if (now - c.since > c.loadGraceMs) {
      const running =
        report === undefined ? 'no steering node reported' : `the steering node reports ${report.model}`;
      return {
        verdict: 'fail',
        kind: 'not_serving',
        reason: `${c.model} was not serving ${((now - c.since) / 1000).toFixed(1)} s after activation (${running})`,
      };
    }
    return { verdict: 'wait', detail: `waiting for the steering node to serve ${c.model}` };
  }
  if (report.inferenceFailures > 0)
    return {
      verdict: 'fail',
      kind: 'inference_errors',
      reason: `${c.model}: ${report.inferenceFailures} inference error(s) in probation`,
    };
  if (report.watchdogStops > 0)
    return {
      verdict: 'fail',
      kind: 'watchdog_stops',
      reason: `${c.model}: the watchdog stopped the robot ${report.watchdogStops} time(s) in probation`,
    };
  if (report.inferenceP99Ms !== null && report.inferenceP99Ms > c.latencyBudgetMs)
    return {
      verdict: 'fail',
      kind: 'latency',
      reason: `${c.model}: inference p99 ${report.inferenceP99Ms.toFixed(3)} ms is over the budget of ${c.latencyBudgetMs} ms`,
    };
  if (report.jitter !== null && report.processed >= MIN_FRAMES_FOR_JITTER && report.jitter > c.maxJitter)
    return {
      verdict: 'fail',
      kind: 'jitter',
      reason: `${c.model}: steering jitter ${report.jitter.toFixed(4)} is past the threshold ${c.maxJitter}`,
    };
  // A parked robot proves nothing: probation ends after `seconds` of serving with frames driven.
  if (report.at - report.since >= c.seconds * 1000 && report.processed >= MIN_FRAMES_FOR_JITTER)
    return {
      verdict: 'pass',
      detail: `${c.model} healthy for ${((report.at - report.since) / 1000).toFixed(1)} s, ${report.processed} frames`,
    };
  return { verdict: 'wait', detail: `${c.model} in probation: ${report.processed} frames so far` };
}
