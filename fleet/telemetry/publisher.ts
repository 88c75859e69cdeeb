// The robot's side of telemetry over MQTT (mqtt.js): a retained online status with a Last Will
// that says offline, and each record retained on the robot's telemetry topic with QoS 1. While
// the broker is out of reach, records go to the bounded buffer instead of mqtt.js's own
// offline queue (which has no bound); on reconnect the buffer is sent oldest first, so the
// newest record is the one left retained. Every record is checked against the schema before it
// leaves: a malformed one is a bug here and throws.

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

import { checkName } from '../exchange/topics.ts';
import { TelemetryBuffer, type BufferLimits, DEFAULT_BUFFER_LIMITS } from './buffer.ts';
import { TELEMETRY_VERSION, telemetrySchema } from './schema.ts';
import type { RobotStatus, TelemetryRecord } from './schema.ts';
import { robotStatusTopic, telemetryTopic } from './topics.ts';

export interface TelemetryPublisherOptions {
  /** mqtt://host:port of any MQTT 3.1.1 or 5 broker. */
  readonly url: string;
  readonly fleet: string;
  readonly robot: string;
  readonly limits?: BufferLimits;
  readonly clock?: { now(): number };
  /** One line per event worth a human's attention (disconnects, refused publishes); stderr by default. */
  readonly log?: (line: string) => void;
  readonly reconnectPeriodMs?: number;
  readonly connectTimeoutMs?: number;
}

export class TelemetryRecordError extends Error {
  override readonly name = 'TelemetryRecordError';
  readonly record: unknown;
  constructor(message: string, record: unknown, options?: ErrorOptions) {
    super(message, options);
    this.record = record;
  }
}

export interface PublisherStats {
  readonly published: number;
  readonly buffered: number;
  readonly dropped: number;
  readonly reconnects: number;
}

export class TelemetryPublisher {
  readonly #o: TelemetryPublisherOptions;
  readonly #client: MqttClient;
  readonly #buffer: TelemetryBuffer;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  #published = 0;
  #connects = 0;
  /** A flush of the buffer runs: new records queue behind it so order is kept. */
  #flushing = false;
  #closed = false;
  #errorLogged = false;

  private constructor(o: TelemetryPublisherOptions, client: MqttClient) {
    this.#o = o;
    this.#client = client;
    this.#buffer = new TelemetryBuffer(o.limits ?? DEFAULT_BUFFER_LIMITS);
    this.#now = o.clock === undefined ? Date.now : () => o.clock!.now();
    this.#log = o.log ?? ((line) => console.error(line));
  }

  /**
   * Starts connecting and returns at once: a robot whose broker is down at boot keeps its
   * telemetry in the buffer until the broker answers. `connected()` waits for the first CONNACK.
   */
  static start(o: TelemetryPublisherOptions): TelemetryPublisher {
    checkName('fleet', o.fleet);
    checkName('silo', o.robot);
    const will: RobotStatus = { v: TELEMETRY_VERSION, robot: o.robot, state: 'offline', at: 0 };
    const options: IClientOptions = {
      clientId: `fadnet-telemetry-${o.fleet}-${o.robot}`,
      clean: true,
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      keepalive: 15,
      // The bounded buffer holds what cannot go out; mqtt.js must not keep a second, unbounded copy.
      queueQoSZero: false,
      will: { topic: robotStatusTopic(o.fleet, o.robot), payload: json(will), qos: 1, retain: true },
    };
    const client = mqtt.connect(o.url, options);
    const publisher = new TelemetryPublisher(o, client);
    client.on('connect', () => publisher.#onConnect());
    client.on('offline', () => {
      if (!publisher.#closed) publisher.#log(`telemetry ${o.robot}: broker ${o.url} unreachable, buffering`);
    });
    // Connection errors become reconnects (mqtt.js retries every period): one line per outage, not one per retry.
    client.on('error', (error) => {
      if (publisher.#errorLogged || publisher.#closed) return;
      publisher.#errorLogged = true;
      publisher.#log(`telemetry ${o.robot}: ${error.message}`);
    });
    return publisher;
  }

  /** Resolves once the broker has accepted the connection (at once when it already has). */
  async connected(): Promise<void> {
    if (this.#client.connected) return;
    await new Promise<void>((resolve) => this.#client.once('connect', () => resolve()));
  }

  #onConnect(): void {
    this.#errorLogged = false;
    if (this.#connects++ > 0) this.#log(`telemetry ${this.#o.robot}: reconnected to ${this.#o.url}`);
    const online: RobotStatus = {
      v: TELEMETRY_VERSION,
      robot: this.#o.robot,
      state: 'online',
      at: this.#now(),
    };
    this.#client
      .publishAsync(robotStatusTopic(this.#o.fleet, this.#o.robot), json(online), { qos: 1, retain: true })
      .catch((error: unknown) =>
        this.#log(`telemetry ${this.#o.robot}: status not published: ${(error as Error).message}`),
      );
    void this.#flush();
  }

  /** Sends the record now when connected, else keeps it in the bounded buffer. */
  publish(record: TelemetryRecord): void {
    const checked = telemetrySchema.safeParse(record);
    if (!checked.success) {
      throw new TelemetryRecordError(
        `telemetry record of ${record.robot} does not match schema v${TELEMETRY_VERSION}: ${checked.error.issues
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
        record,
        { cause: checked.error },
      );
    }
    this.#buffer.push(json(checked.data));
    if (this.#client.connected && !this.#flushing) void this.#flush();
  }

  /** Publishes the buffer oldest first; what fails goes back to the buffer for the next connection. */
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#client.connected && this.#buffer.size > 0) {
        const batch = this.#buffer.drain();
        for (let i = 0; i < batch.length; i++) {
          try {
            await this.#client.publishAsync(
              telemetryTopic(this.#o.fleet, this.#o.robot),
              Buffer.from(batch[i]!),
              {
                qos: 1,
                retain: true,
              },
            );
            this.#published++;
          } catch (error) {
            this.#buffer.unshift(batch.slice(i));
            if (!this.#closed)
              this.#log(
                `telemetry ${this.#o.robot}: publish failed, kept for later: ${(error as Error).message}`,
              );
            return;
          }
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  get stats(): PublisherStats {
    return {
      published: this.#published,
      buffered: this.#buffer.size,
      dropped: this.#buffer.dropped,
      reconnects: Math.max(0, this.#connects - 1),
    };
  }

  /** Records dropped from the buffer so far (the next record carries it). */
  get dropped(): number {
    return this.#buffer.dropped;
  }

  /** Says offline (retained) when connected, then disconnects; records still buffered are lost. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const connected = this.#client.connected;
    if (connected) {
      const offline: RobotStatus = {
        v: TELEMETRY_VERSION,
        robot: this.#o.robot,
        state: 'offline',
        at: this.#now(),
      };
      await this.#client
        .publishAsync(robotStatusTopic(this.#o.fleet, this.#o.robot), json(offline), { qos: 1, retain: true })
        .catch((error: unknown) =>
          this.#log(`telemetry ${this.#o.robot}: offline status not published: ${(error as Error).message}`),
        );
    }
    // A clean DISCONNECT (not a forced close) so the broker drops the Last Will instead of publishing it too.
    await this.#client.endAsync(!connected);
  }

  /** Drops the connection without the clean goodbye, as a crash or a cut cable would (tests, benches). */
  async kill(): Promise<void> {
    this.#closed = true;
    this.#client.stream.destroy();
    await this.#client.endAsync(true);
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
