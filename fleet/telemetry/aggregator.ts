// Turns what the robot's nodes already publish (the steering node's and the silo's
// diagnostic_msgs/DiagnosticArray, the raw steering value, sensor_msgs/BatteryState) and a
// system sample into one telemetry record per call. Pure: time comes from an injected clock,
// the system figures from the caller, so tests drive it message by message in simulated time.

import { timeToMs } from '../../nodes/runtime/index.ts';
import type { BatteryState, DiagnosticArray, DiagnosticStatus, KeyValue } from '../../nodes/runtime/index.ts';
import { TELEMETRY_VERSION, WATCHDOG_STATES } from './schema.ts';
import type { TelemetryRecord } from './schema.ts';

export interface SystemSample {
  readonly cpuLoad: number;
  readonly load1: number;
  readonly cpuCount: number;
  readonly processRssBytes: number;
  readonly memoryUsedBytes: number;
  readonly memoryTotalBytes: number;
}

export interface AggregatorOptions {
  readonly fleet: string;
  readonly robot: string;
  readonly clock: { now(): number };
  /** Steering figures older than this are reported as absent (the node stopped publishing). */
  readonly staleAfterMs?: number;
  /** Battery readings older than this are reported as absent. */
  readonly batteryStaleAfterMs?: number;
}

/** The status names the nodes give their diagnostics: `<node name>: steering`, `<node name>: silo`. */
const STEERING_SUFFIX = ': steering';
const SILO_SUFFIX = ': silo';

type Inference = NonNullable<TelemetryRecord['inference']>;
type Training = NonNullable<TelemetryRecord['training']>;
type WatchdogState = (typeof WATCHDOG_STATES)[number];

/** A diagnostic this aggregator could not read: the caller logs it, the record goes on without it. */
export class DiagnosticFormatError extends Error {
  override readonly name = 'DiagnosticFormatError';
  readonly status: string;
  constructor(status: string, message: string) {
    super(`diagnostic "${status}": ${message}`);
    this.status = status;
  }
}

function valueOf(values: readonly KeyValue[], key: string): string | undefined {
  return values.find((v) => v.key === key)?.value;
}

/** A number the node printed; its 'n/a' (not finite) is null; anything else unreadable is an error. */
function figure(status: DiagnosticStatus, key: string, required: boolean): number | null {
  const text = valueOf(status.values, key);
  if (text === undefined) {
    if (required) throw new DiagnosticFormatError(status.name, `no value "${key}"`);
    return null;
  }
  if (text === 'n/a' || text === '') return null;
  const n = Number(text);
  if (!Number.isFinite(n))
    throw new DiagnosticFormatError(status.name, `value "${key}" is "${text}", not a number`);
  return n;
}

function counter(status: DiagnosticStatus, key: string): number {
  const n = figure(status, key, true);
  if (n === null || !Number.isInteger(n) || n < 0)
    throw new DiagnosticFormatError(
      status.name,
      `value "${key}" is "${valueOf(status.values, key)}", not a count`,
    );
  return n;
}

const nonNegativeOrNull = (n: number | null): number | null => (n === null || n < 0 ? null : n);

/** Peers named in the silo's comma-separated lists ("robot-2@4,robot-3@4"); empty text is none. */
const listLength = (text: string | undefined): number =>
  text === undefined || text === '' ? 0 : text.split(',').length;

export class TelemetryAggregator {
  readonly #o: AggregatorOptions;
  readonly #staleAfterMs: number;
  readonly #batteryStaleAfterMs: number;
  #seq = 0;
  #inference: { value: Inference; receivedAt: number } | undefined;
  #watchdog: { state: WatchdogState; reason: string | null } | undefined;
  #stops = 0;
  #lastStop: { at: number; reason: string } | null = null;
  #training: Training | undefined;
  #bytesSent: number | null = null;
  #bytesReceived: number | null = null;
  #battery: { fraction: number | null; voltage: number | null; receivedAt: number } | undefined;
  #steering: number[] = [];

  constructor(options: AggregatorOptions) {
    this.#o = options;
    this.#staleAfterMs = options.staleAfterMs ?? 3000;
    this.#batteryStaleAfterMs = options.batteryStaleAfterMs ?? 10_000;
  }

  /**
   * Takes the statuses it knows from one DiagnosticArray (other nodes share /diagnostics) and
   * returns one error per status it could not read; those statuses change nothing.
   */
  diagnostics(array: DiagnosticArray): DiagnosticFormatError[] {
    const errors: DiagnosticFormatError[] = [];
    for (const status of array.status) {
      try {
        if (status.name.endsWith(STEERING_SUFFIX)) this.#steeringStatus(status, timeToMs(array.header.stamp));
        else if (status.name.endsWith(SILO_SUFFIX)) this.#siloStatus(status);
      } catch (error) {
        if (!(error instanceof DiagnosticFormatError)) throw error;
        errors.push(error);
      }
    }
    return errors;
  }

  #steeringStatus(status: DiagnosticStatus, stampMs: number): void {
    const state = valueOf(status.values, 'watchdog');
    if (!WATCHDOG_STATES.includes(state as WatchdogState))
      throw new DiagnosticFormatError(status.name, `value "watchdog" is "${state ?? '(missing)'}"`);
    const inference: Inference = {
      fps: nonNegativeOrNull(figure(status, 'fps', true)),
      latencyP50Ms: nonNegativeOrNull(figure(status, 'latency_p50_ms', true)),
      latencyP99Ms: nonNegativeOrNull(figure(status, 'latency_p99_ms', true)),
      modelVersion: valueOf(status.values, 'model_version') ?? '',
      framesReceived: counter(status, 'frames_received'),
      framesDropped: counter(status, 'frames_dropped'),
      framesRejected: counter(status, 'frames_rejected'),
      resultsLate: counter(status, 'results_late'),
      measuredAt: stampMs,
    };
    const now = this.#o.clock.now();
    this.#inference = { value: inference, receivedAt: now };
    const driving = state === 'driving';
    // The steering node publishes its diagnostics once a second, so a stop shorter than that
    // between two of them is not seen here; its own log has every one.
    if (!driving && this.#watchdog?.state === 'driving') {
      this.#stops++;
      this.#lastStop = { at: now, reason: status.message };
    }
    this.#watchdog = { state: state as WatchdogState, reason: driving ? null : status.message };
  }

  #siloStatus(status: DiagnosticStatus): void {
    const lossText = valueOf(status.values, 'loss');
    const loss = lossText === undefined ? null : nonNegativeOrNull(figure(status, 'loss', false));
    this.#training = {
      round: counter(status, 'round'),
      loss,
      roundMs: nonNegativeOrNull(figure(status, 'round_ms', false)),
      peersMixed: listLength(valueOf(status.values, 'peers_mixed')),
      peersTimedOut: listLength(valueOf(status.values, 'peers_timed_out')),
    };
    // The silo reports these when it counts them; until then they stay unknown, not zero.
    if (valueOf(status.values, 'bytes_sent') !== undefined) this.#bytesSent = counter(status, 'bytes_sent');
    if (valueOf(status.values, 'bytes_received') !== undefined)
      this.#bytesReceived = counter(status, 'bytes_received');
  }

  /** The steering node's raw output (/fadnet/steering); non-finite values are not statistics. */
  steering(value: number): void {
    if (Number.isFinite(value)) this.#steering.push(value);
  }

  battery(message: BatteryState): void {
    const fraction = Number.isFinite(message.percentage)
      ? Math.min(1, Math.max(0, message.percentage))
      : null;
    const voltage = Number.isFinite(message.voltage) && message.voltage >= 0 ? message.voltage : null;
    this.#battery = { fraction, voltage, receivedAt: this.#o.clock.now() };
  }

  /** The record for now; starts the next steering window. */
  record(system: SystemSample, dropped: number): TelemetryRecord {
    const now = this.#o.clock.now();
    const fresh = this.#inference !== undefined && now - this.#inference.receivedAt <= this.#staleAfterMs;
    const s = this.#steering;
    this.#steering = [];
    const battery =
      this.#battery !== undefined && now - this.#battery.receivedAt <= this.#batteryStaleAfterMs
        ? { fraction: this.#battery.fraction, voltage: this.#battery.voltage }
        : null;
    return {
      v: TELEMETRY_VERSION,
      fleet: this.#o.fleet,
      robot: this.#o.robot,
      seq: this.#seq++,
      at: now,
      inference: fresh ? this.#inference!.value : null,
      watchdog:
        fresh && this.#watchdog !== undefined
          ? { ...this.#watchdog, stops: this.#stops, lastStop: this.#lastStop }
          : null,
      steering:
        s.length === 0
          ? null
          : {
              samples: s.length,
              mean: s.reduce((a, b) => a + b, 0) / s.length,
              meanAbs: s.reduce((a, b) => a + Math.abs(b), 0) / s.length,
              min: Math.min(...s),
              max: Math.max(...s),
            },
      training: this.#training ?? null,
      exchange: { bytesSent: this.#bytesSent, bytesReceived: this.#bytesReceived },
      battery,
      system: { ...system },
      dropped,
    };
  }
}
