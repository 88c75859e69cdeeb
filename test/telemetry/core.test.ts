// The pure parts of fleet telemetry: the schema on both ends, the aggregator message by message
// in manual time, the bounded offline buffer and the CPU load arithmetic.
import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../nodes/runtime/index.ts';
import type { DiagnosticArray, DiagnosticStatus } from '../../nodes/runtime/index.ts';
import {
  cpuLoadBetween,
  cpuTimes,
  parseRobotStatus,
  parseTelemetry,
  parseTelemetryTopic,
  simulatedRecord,
  TelemetryAggregator,
  TelemetryBuffer,
  TelemetryBufferError,
  telemetryTopic,
} from '../../fleet/telemetry/index.ts';
import type { SystemSample } from '../../fleet/telemetry/index.ts';
import { FleetView, statusTable } from '../../fleet/dashboard/index.ts';

const SYSTEM: SystemSample = {
  cpuLoad: 0.25,
  load1: 1.5,
  cpuCount: 2,
  processRssBytes: 50_000_000,
  memoryUsedBytes: 1_000_000_000,
  memoryTotalBytes: 4_000_000_000,
};

function steeringStatus(watchdog: string, message: string, fps = '29.50', p99 = '6.10'): DiagnosticStatus {
  return {
    level: 0,
    name: 'fadnet_steering: steering',
    message,
    hardware_id: 'onnxruntime cpu fp32',
    values: [
      { key: 'fps', value: fps },
      { key: 'latency_p50_ms', value: '2.90' },
      { key: 'latency_p99_ms', value: p99 },
      { key: 'frames_received', value: '120' },
      { key: 'frames_dropped', value: '3' },
      { key: 'frames_rejected', value: '0' },
      { key: 'results_late', value: '1' },
      { key: 'model_version', value: 'fadnet-sim@1.1.0' },
      { key: 'watchdog', value: watchdog },
    ],
  };
}

const siloStatus: DiagnosticStatus = {
  level: 0,
  name: 'fadnet_silo: silo',
  message: 'silo robot-1 round 7: ...',
  hardware_id: 'robot-1',
  values: [
    { key: 'round', value: '7' },
    { key: 'isolated', value: 'false' },
    { key: 'peers_mixed', value: 'robot-2@7,robot-3@6' },
    { key: 'peers_timed_out', value: '' },
    { key: 'round_ms', value: '4210' },
  ],
};

const array = (...status: DiagnosticStatus[]): DiagnosticArray => ({
  header: { stamp: { sec: 9, nanosec: 900_000_000 }, frame_id: '' },
  status,
});

describe('telemetry schema', () => {
  it('accepts a simulated record and refuses a wrong version, a bad name and a negative fps with the path', () => {
    const record = simulatedRecord('lab', { id: 'robot-1', modelVersion: '1.1.0' }, 0, 3, 1000);
    const bytes = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));
    expect(parseTelemetry(bytes(record))).toEqual({ ok: true, value: record });
    expect(parseTelemetry(bytes({ ...record, v: 2 }))).toEqual({
      ok: false,
      reason: 'v: Invalid input: expected 1',
    });
    expect(parseTelemetry(bytes({ ...record, robot: 'a/b' }))).toEqual({
      ok: false,
      reason: "robot: 1-64 letters, digits, '-' or '_'",
    });
    expect(parseTelemetry(bytes({ ...record, inference: { ...record.inference, fps: -1 } }))).toEqual({
      ok: false,
      reason: 'inference.fps: Too small: expected number to be >=0',
    });
    expect(parseTelemetry(Buffer.from('{nope'))).toEqual({
      ok: false,
      reason: 'not JSON (5 bytes)',
    });
    expect(parseRobotStatus(bytes({ v: 1, robot: 'r1', state: 'offline', at: 0, extra: 1 }))).toEqual({
      ok: false,
      reason: '(root): Unrecognized key: "extra"',
    });
  });

  it('lays topics out under fleet/F/ and reads them back', () => {
    expect(telemetryTopic('lab', 'robot-1')).toBe('fleet/lab/telemetry/robot-1');
    expect(parseTelemetryTopic('lab', 'fleet/lab/telemetry/robot-1')).toEqual({
      kind: 'telemetry',
      robot: 'robot-1',
    });
    expect(parseTelemetryTopic('lab', 'fleet/lab/status/robot-1')).toEqual({
      kind: 'status',
      robot: 'robot-1',
    });
    expect(parseTelemetryTopic('lab', 'fleet/lab/ota/state/robot-2')).toEqual({
      kind: 'ota',
      robot: 'robot-2',
    });
    expect(parseTelemetryTopic('lab', 'fleet/lab/plan/proposals/robot-3')).toEqual({
      kind: 'proposal',
      robot: 'robot-3',
    });
    expect(parseTelemetryTopic('lab', 'fleet/other/telemetry/robot-1')).toEqual({ kind: 'other' });
    expect(parseTelemetryTopic('lab', 'fleet/lab/telemetry/robot-1/x')).toEqual({ kind: 'other' });
  });
});

describe('TelemetryAggregator', () => {
  it('turns diagnostics, steering values and battery into one record per call', () => {
    const clock = new ManualClock(10_000);
    const a = new TelemetryAggregator({ fleet: 'lab', robot: 'robot-1', clock });
    expect(a.diagnostics(array(steeringStatus('driving', 'driving'), siloStatus))).toEqual([]);
    a.steering(0.5);
    a.steering(-0.25);
    a.steering(Number.NaN);
    a.battery({ percentage: 0.8, voltage: 12.3 } as Parameters<typeof a.battery>[0]);
    clock.advance(500);
    expect(a.record(SYSTEM, 2)).toEqual({
      v: 1,
      fleet: 'lab',
      robot: 'robot-1',
      seq: 0,
      at: 10_500,
      inference: {
        fps: 29.5,
        latencyP50Ms: 2.9,
        latencyP99Ms: 6.1,
        modelVersion: 'fadnet-sim@1.1.0',
        framesReceived: 120,
        framesDropped: 3,
        framesRejected: 0,
        resultsLate: 1,
        measuredAt: 9_900,
      },
      watchdog: { state: 'driving', stops: 0, reason: null, lastStop: null },
      steering: { samples: 2, mean: 0.125, meanAbs: 0.375, min: -0.25, max: 0.5 },
      training: { round: 7, loss: null, roundMs: 4210, peersMixed: 2, peersTimedOut: 0 },
      exchange: { bytesSent: null, bytesReceived: null },
      battery: { fraction: 0.8, voltage: 12.3 },
      system: SYSTEM,
      dropped: 2,
    });
    // The steering window starts again; the next record has none.
    expect(a.record(SYSTEM, 2).steering).toBe(null);
  });

  it('counts watchdog stops from driving with the reason, and forgets stale steering figures', () => {
    const clock = new ManualClock(0);
    const a = new TelemetryAggregator({ fleet: 'lab', robot: 'robot-1', clock, staleAfterMs: 3000 });
    a.diagnostics(array(steeringStatus('stopped', 'autonomous driving is disabled')));
    expect(a.record(SYSTEM, 0).watchdog).toEqual({
      state: 'stopped',
      stops: 0,
      reason: 'autonomous driving is disabled',
      lastStop: null,
    });
    clock.advance(1000);
    a.diagnostics(array(steeringStatus('driving', 'driving')));
    clock.advance(1000);
    a.diagnostics(array(steeringStatus('stopping', 'newest frame is 250 ms old, limit 200 ms')));
    expect(a.record(SYSTEM, 0).watchdog).toEqual({
      state: 'stopping',
      stops: 1,
      reason: 'newest frame is 250 ms old, limit 200 ms',
      lastStop: { at: 2000, reason: 'newest frame is 250 ms old, limit 200 ms' },
    });
    clock.advance(3001);
    const stale = a.record(SYSTEM, 0);
    expect([stale.inference, stale.watchdog]).toEqual([null, null]);
  });

  it('reads n/a as null and refuses an unreadable status with its name, keeping the last good one', () => {
    const clock = new ManualClock(0);
    const a = new TelemetryAggregator({ fleet: 'lab', robot: 'r', clock });
    a.diagnostics(array(steeringStatus('driving', 'driving', 'n/a', 'n/a')));
    const first = a.record(SYSTEM, 0).inference!;
    expect([first.fps, first.latencyP99Ms]).toEqual([null, null]);
    const errors = a.diagnostics(
      array(steeringStatus('driving', 'driving', 'fast'), steeringStatus('asleep', 'x')),
    );
    expect(errors.map((e) => e.message)).toEqual([
      'diagnostic "fadnet_steering: steering": value "fps" is "fast", not a number',
      'diagnostic "fadnet_steering: steering": value "watchdog" is "asleep"',
    ]);
    expect(a.record(SYSTEM, 0).inference!.fps).toBe(null);
  });

  it('takes loss and bytes from the silo when it reports them', () => {
    const a = new TelemetryAggregator({ fleet: 'lab', robot: 'r', clock: new ManualClock(0) });
    a.diagnostics(
      array({
        ...siloStatus,
        values: [
          ...siloStatus.values,
          { key: 'loss', value: '0.0123' },
          { key: 'bytes_sent', value: '702979' },
          { key: 'bytes_received', value: '1405958' },
        ],
      }),
    );
    const r = a.record(SYSTEM, 0);
    expect([r.training!.loss, r.exchange]).toEqual([
      0.0123,
      { bytesSent: 702_979, bytesReceived: 1_405_958 },
    ]);
  });
});

describe('TelemetryBuffer', () => {
  const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

  it('keeps the newest within count and bytes, oldest dropped and counted, drained oldest first', () => {
    const b = new TelemetryBuffer({ maxRecords: 3, maxBytes: 25 });
    for (let i = 0; i < 5; i++) b.push(bytes(10, i));
    // 5 pushed, 10 bytes each: the byte limit (25) leaves two.
    expect([b.size, b.bytes, b.dropped]).toEqual([2, 20, 3]);
    expect(b.drain().map((p) => p[0])).toEqual([3, 4]);
    expect([b.size, b.bytes]).toEqual([0, 0]);
    b.push(bytes(30, 9));
    expect([b.size, b.dropped]).toEqual([0, 4]);
    for (let i = 0; i < 4; i++) b.push(bytes(1, i));
    expect(b.drain().map((p) => p[0])).toEqual([1, 2, 3]);
    expect(b.dropped).toBe(5);
  });

  it('puts unsent records back ahead of newer ones', () => {
    const b = new TelemetryBuffer({ maxRecords: 3, maxBytes: 100 });
    b.push(bytes(1, 7));
    b.unshift([bytes(1, 5), bytes(1, 6)]);
    b.push(bytes(1, 8));
    expect(b.drain().map((p) => p[0])).toEqual([6, 7, 8]);
    expect(b.dropped).toBe(1);
  });

  it('refuses limits below one', () => {
    expect(() => new TelemetryBuffer({ maxRecords: 0, maxBytes: 10 })).toThrow(
      new TelemetryBufferError('maxRecords must be a whole number of at least 1, got 0'),
    );
  });
});

describe('CPU load', () => {
  it('is the busy share of CPU time between two samples', () => {
    const t = (user: number, idle: number) => ({ times: { user, nice: 0, sys: 0, idle, irq: 0 } });
    const before = cpuTimes([t(100, 900), t(200, 800)]);
    const after = cpuTimes([t(175, 925), t(250, 850)]);
    expect(before).toEqual({ idle: 1700, total: 2000 });
    expect(cpuLoadBetween(before, after)).toBe(0.75 * 0.5 + 0.5 * 0.5);
    expect(cpuLoadBetween(after, after)).toBe(0);
  });
});

describe('FleetView', () => {
  it("refuses records on another robot's topic or fleet, and reads only state and version from OTA JSON", () => {
    const view = new FleetView({ fleet: 'lab', historyPoints: 2 });
    const spec = { id: 'robot-1', modelVersion: '1.1.0' };
    expect(view.telemetry('robot-2', simulatedRecord('lab', spec, 0, 0, 10), 11)).toBe(
      'record of robot "robot-1" on the topic of "robot-2"',
    );
    expect(view.telemetry('robot-1', simulatedRecord('other', spec, 0, 0, 10), 11)).toBe(
      'record of fleet "other" on fleet "lab"',
    );
    for (let seq = 0; seq < 3; seq++)
      view.telemetry('robot-1', simulatedRecord('lab', spec, 0, seq, 1000 * seq), 5);
    expect(view.ota('robot-1', ['idle'], 6)).toBe('OTA state is not a JSON object');
    expect(view.ota('robot-1', { state: 'idle', version: 7, extra: true }, 6)).toBe(undefined);
    const robot = view.robot('robot-1')!;
    expect([robot.ota, robot.history.map((h) => h.at), robot.lastSeen]).toEqual([
      { state: 'idle', version: null },
      [1000, 2000],
      6,
    ]);
  });

  it('prints the status table with fixed columns', () => {
    expect(
      statusTable([
        {
          robot: 'robot-1',
          online: true,
          modelVersion: 'm@1.1.0',
          fps: 29.96,
          p99Ms: 6.1,
          round: 12,
          lastSeenAgoS: 0.4,
        },
        {
          robot: 'r2',
          online: null,
          modelVersion: null,
          fps: null,
          p99Ms: null,
          round: null,
          lastSeenAgoS: 31,
        },
      ]),
    ).toBe(
      [
        'robot    online  model     fps  p99 ms  round   last seen',
        'robot-1  yes     m@1.1.0  30.0    6.10     12   0.4 s ago',
        'r2       ?       -           -       -      -  31.0 s ago',
      ].join('\n'),
    );
  });
});
