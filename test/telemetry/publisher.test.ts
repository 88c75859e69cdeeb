// The robot's telemetry over a real broker (mosquitto when installed, else the embedded aedes):
// retained records and status, the Last Will, the bounded buffer across a broker outage; and the
// telemetry node on the embedded bus scraped over real HTTP as Prometheus would.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';

import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EmbeddedBus, ManualClock, QOS_STATUS, timeFromMs } from '../../nodes/runtime/index.ts';
import {
  parseRobotStatus,
  parseTelemetry,
  simulatedRecord,
  startMetricsServer,
  TelemetryMetrics,
  TelemetryNode,
  TelemetryPublisher,
  TelemetryRecordError,
  telemetryFilter,
  robotStatusFilter,
} from '../../fleet/telemetry/index.ts';
import type { RobotStatus, TelemetryRecord } from '../../fleet/telemetry/index.ts';
import { mosquittoOrSkip, startAedes, startMosquitto, type TestBroker } from '../fleet/brokers.ts';
import { until } from '../helpers/until.ts';

let broker: TestBroker;

beforeAll(async () => {
  broker = mosquittoOrSkip() ? await startMosquitto('telemetry') : await startAedes('telemetry');
});

afterAll(async () => {
  await broker.dispose();
});

/** A reader of the fleet's telemetry and status, as the dashboard subscribes. */
async function reader(fleet: string) {
  const records: TelemetryRecord[] = [];
  const statuses: RobotStatus[] = [];
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 200 });
  client.on('message', (topic, payload) => {
    if (topic.includes('/telemetry/')) {
      const r = parseTelemetry(payload);
      if (r.ok) records.push(r.value);
    } else {
      const s = parseRobotStatus(payload);
      if (s.ok) statuses.push(s.value);
    }
  });
  const subscribe = () =>
    client.subscribeAsync([telemetryFilter(fleet), robotStatusFilter(fleet)], { qos: 1 });
  await subscribe();
  client.on('connect', () => void subscribe());
  return { records, statuses, close: () => client.endAsync(true) };
}

const spec = { id: 'robot-1', modelVersion: '1.1.0' };

describe(`telemetry publisher on ${process.env.CI === 'true' ? 'mosquitto' : 'a real broker'}`, () => {
  it('publishes retained status and records; a late reader gets the newest at once', async () => {
    const p = TelemetryPublisher.start({ url: broker.url, fleet: 'pub1', robot: 'robot-1', log: () => {} });
    await p.connected();
    for (let seq = 0; seq < 3; seq++) p.publish(simulatedRecord('pub1', spec, 0, seq, 1000 + seq));
    await until('three records published', () => p.stats.published === 3);
    const late = await reader('pub1');
    await until(
      'the retained record and status',
      () => late.records.length === 1 && late.statuses.length === 1,
    );
    expect(late.records[0]).toEqual(simulatedRecord('pub1', spec, 0, 2, 1002));
    expect(late.statuses[0]!.state).toBe('online');
    await p.close();
    await until('offline on a clean close', () => late.statuses.length === 2);
    expect(late.statuses[1]!.state).toBe('offline');
    await late.close();
  });

  it('refuses to send a record that breaks the schema', () => {
    const p = TelemetryPublisher.start({ url: broker.url, fleet: 'pub2', robot: 'robot-1', log: () => {} });
    const bad = { ...simulatedRecord('pub2', spec, 0, 0, 1), seq: -1 };
    expect(() => p.publish(bad)).toThrow(
      new TelemetryRecordError(
        'telemetry record of robot-1 does not match schema v1: seq: Too small: expected number to be >=0',
        bad,
      ),
    );
    return p.close();
  });

  it("lets the broker publish the Last Will when the robot's connection dies", async () => {
    const r = await reader('pub3');
    const p = TelemetryPublisher.start({ url: broker.url, fleet: 'pub3', robot: 'robot-9', log: () => {} });
    await p.connected();
    await until('online', () => r.statuses.length === 1);
    await p.kill();
    await until('the Last Will', () => r.statuses.length === 2);
    expect(r.statuses[1]).toEqual({ v: 1, robot: 'robot-9', state: 'offline', at: 0 });
    await r.close();
  });

  it('keeps the newest records in bounded memory while the broker is down and sends them on reconnect', async () => {
    const lines: string[] = [];
    const p = TelemetryPublisher.start({
      url: broker.url,
      fleet: 'pub4',
      robot: 'robot-1',
      limits: { maxRecords: 3, maxBytes: 1 << 20 },
      reconnectPeriodMs: 100,
      log: (l) => lines.push(l),
    });
    await p.connected();
    p.publish(simulatedRecord('pub4', spec, 0, 0, 0));
    await until('the first record', () => p.stats.published === 1);
    await broker.stop();
    await until('the publisher to notice', () => lines.some((l) => l.includes('unreachable, buffering')));
    for (let seq = 1; seq <= 7; seq++) p.publish(simulatedRecord('pub4', spec, 0, seq, seq));
    expect(p.stats).toEqual({ published: 1, buffered: 3, dropped: 4, reconnects: 0 });
    await broker.restart();
    const r = await reader('pub4');
    await until('the buffered records', () => r.records.length >= 3 && p.stats.published === 4);
    // Oldest first, so the newest (seq 7) is the one left retained.
    expect(r.records.map((x) => x.seq)).toEqual([5, 6, 7]);
    expect(p.stats).toEqual({ published: 4, buffered: 0, dropped: 4, reconnects: 1 });
    await p.close();
    await r.close();
  });
});

describe('telemetry node and Prometheus endpoint', () => {
  it('serves the figures of its last record over HTTP, named by Prometheus conventions', async () => {
    const clock = new ManualClock(5000);
    const bus = new EmbeddedBus({ clock });
    const sent: TelemetryRecord[] = [];
    const metrics = new TelemetryMetrics();
    const server = await startMetricsServer(metrics, { host: '127.0.0.1', port: 0 });
    const node = new TelemetryNode({
      node: bus.createNode('fadnet_telemetry'),
      params: {
        fleet: 'lab',
        robot_id: 'robot-1',
        diagnostics_topic: '/diagnostics',
        steering_topic: '/fadnet/steering',
        battery_topic: '/battery_state',
        rate_hz: 1,
      },
      sink: {
        publish: (r) => sent.push(r),
        stats: { published: 0, buffered: 2, dropped: 1, reconnects: 0 },
      },
      metrics,
      system: {
        sample: () => ({
          cpuLoad: 0.5,
          load1: 0.75,
          cpuCount: 2,
          processRssBytes: 1000,
          memoryUsedBytes: 2000,
          memoryTotalBytes: 4000,
        }),
      },
    });
    const peer = bus.createNode('fadnet_steering');
    const diag = peer.createPublisher('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', QOS_STATUS);
    diag.publish({
      header: { stamp: timeFromMs(5000), frame_id: '' },
      status: [
        {
          level: 0,
          name: 'fadnet_steering: steering',
          message: 'driving',
          hardware_id: 'cpu',
          values: [
            { key: 'fps', value: '30.00' },
            { key: 'latency_p50_ms', value: '2.50' },
            { key: 'latency_p99_ms', value: '6.25' },
            { key: 'frames_received', value: '900' },
            { key: 'frames_dropped', value: '4' },
            { key: 'frames_rejected', value: '0' },
            { key: 'results_late', value: '0' },
            { key: 'model_version', value: 'fadnet-sim@1.1.0' },
            { key: 'watchdog', value: 'driving' },
          ],
        },
      ],
    });
    // The embedded bus delivers on a later tick, as a real transport would.
    await new Promise((r) => setTimeout(r, 10));
    clock.advance(1000);
    expect(sent.map((r) => [r.seq, r.at, r.inference?.fps, r.dropped])).toEqual([[0, 6000, 30, 1]]);
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples).toEqual([
      'fadnet_inference_fps{robot="robot-1"} 30',
      'fadnet_steering_latency_seconds{robot="robot-1",quantile="0.5"} 0.0025',
      'fadnet_steering_latency_seconds{robot="robot-1",quantile="0.99"} 0.00625',
      'fadnet_model_info{robot="robot-1",version="fadnet-sim@1.1.0"} 1',
      'fadnet_frames_received_total{robot="robot-1"} 900',
      'fadnet_frames_dropped_total{robot="robot-1"} 4',
      'fadnet_frames_rejected_total{robot="robot-1"} 0',
      'fadnet_results_late_total{robot="robot-1"} 0',
      'fadnet_watchdog_driving{robot="robot-1"} 1',
      'fadnet_watchdog_stops_total{robot="robot-1"} 0',
      'fadnet_cpu_load_ratio{robot="robot-1"} 0.5',
      'fadnet_load1{robot="robot-1"} 0.75',
      'fadnet_memory_used_bytes{robot="robot-1"} 2000',
      'fadnet_memory_total_bytes{robot="robot-1"} 4000',
      'fadnet_telemetry_process_resident_memory_bytes{robot="robot-1"} 1000',
      'fadnet_telemetry_dropped_total{robot="robot-1"} 1',
      'fadnet_telemetry_buffered_records{robot="robot-1"} 2',
    ]);
    expect(text).toContain('# TYPE fadnet_frames_received_total counter\n');
    expect(text).toContain('# HELP fadnet_training_loss Training loss of the last round\n');
    expect((await fetch(server.url.replace('/metrics', '/'))).status).toBe(404);
    node.destroy();
    await server.close();
    await bus.shutdown();
  });
});

describe('fadnet node telemetry as a process', () => {
  it('publishes records with the machine figures, serves them to Prometheus, and says offline on SIGTERM', async () => {
    const r = await reader('node1');
    const child = spawn(
      process.execPath,
      [
        'bin/fadnet.mjs',
        'node',
        'telemetry',
        '--embedded',
        '--ros-args',
        '-p',
        'fleet:=node1',
        '-p',
        'robot_id:=robot-7',
        '-p',
        `broker_url:=${broker.url}`,
        '-p',
        'metrics_port:=0',
        '-p',
        'metrics_host:=127.0.0.1',
        '-p',
        'rate_hz:=5.0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lines: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
    await until('the start line', () => lines.some((l) => l.includes('metrics on http://')), 30_000);
    const start = lines.find((l) => l.includes('metrics on http://'))!;
    expect(lines[0]).toBe('transport: embedded in-process bus (no ROS 2 environment sourced)');
    expect(start).toMatch(
      /^\[fadnet_telemetry\] robot robot-7 of fleet node1: telemetry every 200 ms to mqtt:\/\/127\.0\.0\.1:\d+, metrics on http:\/\/127\.0\.0\.1:\d+\/metrics$/,
    );
    const metricsUrl = /metrics on (\S+)$/.exec(start)![1]!;
    await until('two records', () => r.records.length >= 2, 10_000);
    const record = r.records[1]!;
    // Nothing publishes diagnostics, steering or battery on this bus: those figures are absent, not 0.
    expect([
      record.robot,
      record.seq,
      record.inference,
      record.watchdog,
      record.battery,
      record.training,
    ]).toEqual(['robot-7', 1, null, null, null, null]);
    expect(record.system.cpuCount).toBe(cpus().length);
    const text = await (await fetch(metricsUrl)).text();
    expect(text).toMatch(/^fadnet_cpu_load_ratio\{robot="robot-7"\} [0-9.e-]+$/m);
    expect(text).not.toMatch(/^fadnet_inference_fps\{/m);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await until('offline', () => r.statuses.some((s) => s.robot === 'robot-7' && s.state === 'offline'));
    expect(r.statuses.filter((s) => s.robot === 'robot-7').map((s) => s.state)).toEqual([
      'online',
      'offline',
    ]);
    await r.close();
  }, 60_000);
});
