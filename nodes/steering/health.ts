// What the steering node reports about the model it drives with, for the OTA agent's probation
// after an update (fleet/ota). Written as a file in the model store, replaced atomically at the
// diagnostics rate, because the agent is often another process (ros2 launch starts both) and a
// file works the same there, in one process on the embedded bus, and across a restart.
import { z } from 'zod';

export const HEALTH_FILE = 'health.json';

export const SteeringHealthSchema = z.strictObject({
  v: z.literal(1),
  node: z.string(),
  /** `name@version` of the model driving now. */
  model: z.string(),
  /** Wall-clock ms when this model started serving. */
  since: z.number().nonnegative(),
  /** Wall-clock ms of this report. */
  at: z.number().nonnegative(),
  /** Counted since `since`, so a report judges this model alone. */
  processed: z.number().int().nonnegative(),
  inferenceFailures: z.number().int().nonnegative(),
  late: z.number().int().nonnegative(),
  /** Watchdog stops caused by the model (inference deadline or error), not by the operator. */
  watchdogStops: z.number().int().nonnegative(),
  /** Nearest-rank p99 of inference time (ms) over this model's recent frames; null before any. */
  inferenceP99Ms: z.number().nonnegative().nullable(),
  /** Mean |change| of the raw steering between consecutive results, recent frames; null before two. */
  jitter: z.number().nonnegative().nullable(),
});
export type SteeringHealth = z.infer<typeof SteeringHealthSchema>;

/**
 * Steering jitter: the mean absolute change between consecutive outputs. A model that drives
 * smoothly on the simulator moves its output a few hundredths per frame; one that flips between
 * extremes moves it by about 1.
 */
export function jitterOf(values: readonly number[]): number | undefined {
  if (values.length < 2) return undefined;
  let sum = 0;
  for (let i = 1; i < values.length; i++) sum += Math.abs(values[i]! - values[i - 1]!);
  return sum / (values.length - 1);
}
