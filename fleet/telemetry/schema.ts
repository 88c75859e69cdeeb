// The telemetry record a robot publishes once a second, version 1 (fields: README.md here). The
// same schema is applied by the publisher before a record leaves the robot and by every reader
// (fleet status, the dashboard) before a record reaches its view, so a robot running other code
// can never put a malformed figure on a screen. Pure: no I/O.

import { z } from 'zod';

import { NAME_PATTERN } from '../exchange/topics.ts';

export const TELEMETRY_VERSION = 1;

const name = z.string().regex(NAME_PATTERN, "1-64 letters, digits, '-' or '_'");
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const finite = z.number().finite();
const nonNegative = finite.min(0);
/** A figure the robot could not measure this second (no source, or not finite) is null, never 0. */
const maybe = <T extends z.ZodType>(t: T) => t.nullable();

/** The steering node's inference figures, as its diagnostics reported them last. */
const inferenceSchema = z.strictObject({
  fps: maybe(nonNegative),
  latencyP50Ms: maybe(nonNegative),
  latencyP99Ms: maybe(nonNegative),
  /** The model version the steering node ran when it measured these figures. */
  modelVersion: z.string().max(128),
  framesReceived: count,
  framesDropped: count,
  framesRejected: count,
  resultsLate: count,
  /** The header stamp of the diagnostics these figures come from: the steering node's clock (ms). */
  measuredAt: nonNegative,
});

export const WATCHDOG_STATES = ['driving', 'stopping', 'stopped'] as const;

const watchdogSchema = z.strictObject({
  state: z.enum(WATCHDOG_STATES),
  /** Transitions from driving to not driving since the telemetry node started. */
  stops: count,
  /** Why the robot is not driving now, in the steering node's words; null while driving. */
  reason: maybe(z.string().max(256)),
  lastStop: maybe(z.strictObject({ at: nonNegative, reason: z.string().max(256) })),
});

/** The command the steering node produced in the last second (its raw value in [-1, 1]). */
const steeringSchema = z.strictObject({
  samples: count,
  mean: finite,
  meanAbs: nonNegative,
  min: finite,
  max: finite,
});

const trainingSchema = z.strictObject({
  round: count,
  /** Training loss of the last round; null when the silo does not report it. */
  loss: maybe(nonNegative),
  roundMs: maybe(nonNegative),
  peersMixed: count,
  peersTimedOut: count,
});

const exchangeSchema = z.strictObject({
  bytesSent: maybe(count),
  bytesReceived: maybe(count),
});

const batterySchema = z.strictObject({
  /** Charge as a fraction (sensor_msgs/BatteryState.percentage is 0..1). */
  fraction: maybe(finite.min(0).max(1)),
  voltage: maybe(nonNegative),
});

const systemSchema = z.strictObject({
  /** Share of all cores busy since the previous record, 0..1. */
  cpuLoad: finite.min(0).max(1),
  /** The 1-minute load average (runnable tasks), as `uptime` prints it. */
  load1: nonNegative,
  cpuCount: count.min(1),
  /** Resident memory of the telemetry process. */
  processRssBytes: count,
  memoryUsedBytes: count,
  memoryTotalBytes: count,
});

export const telemetrySchema = z.strictObject({
  v: z.literal(TELEMETRY_VERSION),
  fleet: name,
  robot: name,
  /** Grows by one per record of this process; a restart starts again at 0. */
  seq: count,
  /** When the record was made, ms since the epoch (the publishing robot's clock). */
  at: nonNegative,
  inference: maybe(inferenceSchema),
  watchdog: maybe(watchdogSchema),
  steering: maybe(steeringSchema),
  training: maybe(trainingSchema),
  exchange: exchangeSchema,
  battery: maybe(batterySchema),
  system: systemSchema,
  /** Records dropped from the disconnected-period buffer since start (oldest first). */
  dropped: count,
});

export type TelemetryRecord = z.infer<typeof telemetrySchema>;

/** A robot's retained status on `fleet/F/status/R`; its Last Will says offline. */
export const robotStatusSchema = z.strictObject({
  v: z.literal(TELEMETRY_VERSION),
  robot: name,
  state: z.enum(['online', 'offline']),
  /** When it was published (ms since the epoch); 0 in the Last Will, written before any clock. */
  at: nonNegative,
});

export type RobotStatus = z.infer<typeof robotStatusSchema>;

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Bytes from the wire to a checked value, or the reason it was refused (never a throw: a peer's bad bytes are values). */
export function parsePayload<T>(schema: z.ZodType<T>, payload: Uint8Array): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    // The engine's parse message differs between Node versions; the size is what helps find the sender's bug.
    return { ok: false, reason: `not JSON (${payload.byteLength} bytes)` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length === 0 ? '(root)' : issue.path.join('.');
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
  return { ok: false, reason: `${where}: ${issue.message}${more}` };
}

export const parseTelemetry = (payload: Uint8Array): Parsed<TelemetryRecord> =>
  parsePayload(telemetrySchema, payload);
export const parseRobotStatus = (payload: Uint8Array): Parsed<RobotStatus> =>
  parsePayload(robotStatusSchema, payload);
