// The robot's telemetry as Prometheus metrics (prom-client), the same figures as the MQTT
// record, named by Prometheus conventions: base units (seconds, bytes, ratios 0..1), `_total`
// for counters, `_info` with the value 1 for a version. Every metric carries a `robot` label so
// a scrape of several robots through one exporter (or a federation) still tells them apart. A
// figure the record has as null is left out of the scrape rather than shown as 0.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Counter, Gauge, Registry } from 'prom-client';

import type { PublisherStats } from './publisher.ts';
import type { TelemetryRecord } from './schema.ts';

/** The Prometheus exporter port convention range starts at 9100; 9464 is the OpenTelemetry exporter's default. */
export const DEFAULT_METRICS_PORT = 9464;

type Labels = Record<string, string>;

export class TelemetryMetrics {
  readonly registry: Registry;
  readonly #gauges = new Map<string, Gauge>();
  readonly #counters = new Map<string, { counter: Counter; last: Map<string, number> }>();

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const g = (name: string, help: string, extra: string[] = []): void => {
      this.#gauges.set(
        name,
        new Gauge({ name, help, labelNames: ['robot', ...extra], registers: [registry] }),
      );
    };
    const c = (name: string, help: string): void => {
      const counter = new Counter({ name, help, labelNames: ['robot'], registers: [registry] });
      this.#counters.set(name, { counter, last: new Map() });
    };
    g('fadnet_inference_fps', 'Frames per second the steering node completed');
    g('fadnet_steering_latency_seconds', 'Frame received to command published, by quantile', ['quantile']);
    g('fadnet_model_info', 'The model version the steering node runs (value 1)', ['version']);
    c('fadnet_frames_received_total', 'Camera frames the steering node received');
    c('fadnet_frames_dropped_total', 'Frames replaced by a newer one before inference (latest frame wins)');
    c('fadnet_frames_rejected_total', 'Frames the steering node could not use');
    c('fadnet_results_late_total', 'Inference results that came after their deadline');
    g('fadnet_watchdog_driving', '1 while the watchdog lets the robot drive, 0 while it holds it stopped');
    c('fadnet_watchdog_stops_total', 'Times the watchdog stopped a driving robot');
    g('fadnet_steering_value_mean', 'Mean raw steering value over the last second ([-1, 1])');
    g('fadnet_steering_value_abs_mean', 'Mean absolute raw steering value over the last second');
    g('fadnet_training_round', 'The silo round last completed');
    g('fadnet_training_loss', 'Training loss of the last round');
    g('fadnet_training_round_seconds', 'Wall time of the last round');
    c('fadnet_exchange_sent_bytes_total', 'Bytes of model updates the silo sent');
    c('fadnet_exchange_received_bytes_total', 'Bytes of model updates the silo received');
    g('fadnet_battery_charge_ratio', 'Battery charge, 0..1');
    g('fadnet_battery_voltage_volts', 'Battery voltage');
    g('fadnet_cpu_load_ratio', 'Share of all cores busy over the last second, 0..1');
    g('fadnet_load1', 'One-minute load average');
    g('fadnet_memory_used_bytes', 'Memory in use on the machine');
    g('fadnet_memory_total_bytes', 'Memory of the machine');
    g('fadnet_telemetry_process_resident_memory_bytes', 'Resident memory of the telemetry process');
    c('fadnet_telemetry_dropped_total', 'Telemetry records dropped from the offline buffer');
    g('fadnet_telemetry_buffered_records', 'Telemetry records waiting for the broker');
  }

  #set(name: string, labels: Labels, value: number | null | undefined): void {
    const gauge = this.#gauges.get(name)!;
    if (value === null || value === undefined || !Number.isFinite(value)) gauge.remove(labels);
    else gauge.set(labels, value);
  }

  /** Counters mirror another process's totals: they move by the difference, and restart with it. */
  #total(name: string, labels: Labels, value: number | null | undefined): void {
    const entry = this.#counters.get(name)!;
    const key = JSON.stringify(labels);
    if (value === null || value === undefined) {
      entry.counter.remove(labels);
      entry.last.delete(key);
      return;
    }
    const last = entry.last.get(key);
    if (last === undefined || value < last) {
      entry.counter.remove(labels);
      entry.counter.inc(labels, value);
    } else entry.counter.inc(labels, value - last);
    entry.last.set(key, value);
  }

  update(r: TelemetryRecord, publisher?: Pick<PublisherStats, 'buffered'>): void {
    const robot = { robot: r.robot };
    const inf = r.inference;
    this.#set('fadnet_inference_fps', robot, inf?.fps);
    const seconds = (ms: number | null | undefined): number | null | undefined =>
      ms === null || ms === undefined ? ms : ms / 1000;
    this.#set('fadnet_steering_latency_seconds', { ...robot, quantile: '0.5' }, seconds(inf?.latencyP50Ms));
    this.#set('fadnet_steering_latency_seconds', { ...robot, quantile: '0.99' }, seconds(inf?.latencyP99Ms));
    // One version at a time: the old series goes when the model changes.
    this.#gauges.get('fadnet_model_info')!.reset();
    if (inf !== null) this.#set('fadnet_model_info', { ...robot, version: inf.modelVersion }, 1);
    this.#total('fadnet_frames_received_total', robot, inf?.framesReceived);
    this.#total('fadnet_frames_dropped_total', robot, inf?.framesDropped);
    this.#total('fadnet_frames_rejected_total', robot, inf?.framesRejected);
    this.#total('fadnet_results_late_total', robot, inf?.resultsLate);
    const wd = r.watchdog;
    this.#set('fadnet_watchdog_driving', robot, wd === null ? null : wd.state === 'driving' ? 1 : 0);
    this.#total('fadnet_watchdog_stops_total', robot, wd?.stops);
    this.#set('fadnet_steering_value_mean', robot, r.steering?.mean);
    this.#set('fadnet_steering_value_abs_mean', robot, r.steering?.meanAbs);
    this.#set('fadnet_training_round', robot, r.training?.round);
    this.#set('fadnet_training_loss', robot, r.training?.loss);
    this.#set('fadnet_training_round_seconds', robot, seconds(r.training?.roundMs));
    this.#total('fadnet_exchange_sent_bytes_total', robot, r.exchange.bytesSent);
    this.#total('fadnet_exchange_received_bytes_total', robot, r.exchange.bytesReceived);
    this.#set('fadnet_battery_charge_ratio', robot, r.battery?.fraction);
    this.#set('fadnet_battery_voltage_volts', robot, r.battery?.voltage);
    this.#set('fadnet_cpu_load_ratio', robot, r.system.cpuLoad);
    this.#set('fadnet_load1', robot, r.system.load1);
    this.#set('fadnet_memory_used_bytes', robot, r.system.memoryUsedBytes);
    this.#set('fadnet_memory_total_bytes', robot, r.system.memoryTotalBytes);
    this.#set('fadnet_telemetry_process_resident_memory_bytes', robot, r.system.processRssBytes);
    this.#total('fadnet_telemetry_dropped_total', robot, r.dropped);
    this.#set('fadnet_telemetry_buffered_records', robot, publisher?.buffered);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export interface MetricsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export class MetricsServerError extends Error {
  override readonly name = 'MetricsServerError';
  readonly port: number;
  constructor(port: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.port = port;
  }
}

/** GET /metrics over node:http; 0 picks a free port. */
export async function startMetricsServer(
  metrics: TelemetryMetrics,
  options: { readonly host?: string; readonly port?: number } = {},
): Promise<MetricsServer> {
  const host = options.host ?? '0.0.0.0';
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (error: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? DEFAULT_METRICS_PORT, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new MetricsServerError(
      options.port ?? DEFAULT_METRICS_PORT,
      `the metrics endpoint cannot listen on ${host}:${options.port ?? DEFAULT_METRICS_PORT}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
