// The live view: a Foxglove WebSocket server (foxglove.websocket.v1) over the embedded bus, so
// the Foxglove app shows the camera, the steering output and /cmd_vel while the nodes run.
// It only watches: it taps the bus, advertises every topic as a JSON channel, and encodes a
// message only for channels a viewer subscribed to. Nothing it does may slow or break the
// robot: camera channels are rate-limited, slow viewers lose messages instead of queueing
// them, and failures are logged and contained.
import type { AddressInfo } from 'node:net';
import wsProtocol from '@foxglove/ws-protocol';
import type { ChannelId } from '@foxglove/ws-protocol';
import { WebSocketServer } from 'ws';
import type { Clock, EmbeddedBus, MessageTypeName } from '../runtime/index.ts';
import { encodeMessage } from './encode.ts';
import { GuardedSocket, type SocketCounters } from './guarded-socket.ts';
import { channelSchema } from './schemas.ts';

// The package is CommonJS; Node's ESM loader cannot see its named exports.
const { FoxgloveServer } = wsProtocol;

export interface LiveViewOptions {
  readonly bus: EmbeddedBus;
  /** 0 picks any free port. Default 8765, the Foxglove app's default. */
  readonly port?: number;
  /** Default 127.0.0.1: the robot's data is not for the whole network unless asked. */
  readonly host?: string;
  /** Fallback timestamps and the image rate limit. Default: the bus clock. */
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
  /** Per image channel; Infinity disables the limit. Default 10. */
  readonly maxImageRateHz?: number;
  /** A viewer with more unsent bytes than this misses message data. Default 4 MiB (~3 frames). */
  readonly maxBufferedBytes?: number;
}

export interface LiveViewStats {
  /** Messages handed to a viewer's socket (one per viewer per message). */
  readonly sent: number;
  /** Image messages skipped by the rate limit. */
  readonly throttled: number;
  /** Messages a congested viewer missed (a frame skipped unencoded because every viewer was congested counts once per viewer). */
  readonly backpressured: number;
  /** Socket errors and failed encodes. */
  readonly failed: number;
}

export class LiveViewListenError extends Error {
  override readonly name = 'LiveViewListenError';
  constructor(
    readonly host: string,
    readonly port: number,
    options: { cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`live view cannot listen on ${host}:${port}: ${reason}`, options);
  }
}

interface Channel {
  readonly id: ChannelId;
  readonly topic: string;
  readonly type: MessageTypeName;
  readonly image: boolean;
  subscribed: boolean;
  lastAcceptedMs: number | undefined;
  reportedFailure: boolean;
}

const isImageType = (type: MessageTypeName): boolean =>
  type === 'sensor_msgs/msg/Image' || type === 'sensor_msgs/msg/CompressedImage';

const DEFAULT_PORT = 8765;
const DEFAULT_IMAGE_RATE_HZ = 10;
const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** How long close() lets a viewer answer the closing handshake before dropping its socket. */
const CLOSE_GRACE_MS = 1000;

export class LiveView {
  readonly port: number;
  readonly url: string;
  readonly #wss: WebSocketServer;
  readonly #server: InstanceType<typeof FoxgloveServer>;
  readonly #bus: EmbeddedBus;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #minImageIntervalMs: number;
  readonly #maxBufferedBytes: number;
  readonly #channels = new Map<string, Channel>();
  readonly #byId = new Map<ChannelId, Channel>();
  readonly #clients = new Set<GuardedSocket>();
  readonly #counters: SocketCounters = { sent: 0, backpressured: 0, failed: 0 };
  #throttled = 0;
  #untap: () => void = () => undefined;
  #closing: Promise<void> | undefined;

  private constructor(
    wss: WebSocketServer,
    host: string,
    options: LiveViewOptions,
    limits: { imageRateHz: number; maxBufferedBytes: number },
  ) {
    this.#wss = wss;
    this.port = (wss.address() as AddressInfo).port;
    this.url = `ws://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
    this.#bus = options.bus;
    this.#clock = options.clock ?? options.bus.clock;
    this.#log = options.log ?? ((line) => console.error(`[live_view] ${line}`));
    this.#minImageIntervalMs = 1000 / limits.imageRateHz;
    this.#maxBufferedBytes = limits.maxBufferedBytes;
    this.#server = new FoxgloveServer({ name: 'fadnet-edge' });
    this.#server.on('subscribe', (id) => this.#setSubscribed(id, true));
    this.#server.on('unsubscribe', (id) => this.#setSubscribed(id, false));
    // A malformed request from a viewer is that viewer's problem: log it and carry on.
    this.#server.on('error', (error) => this.#log(`viewer request rejected: ${error.message}`));
    wss.on('error', (error) => this.#log(`server error: ${error.message}`));
    wss.on('connection', (ws, request) => {
      const name = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
      if (ws.protocol !== FoxgloveServer.SUPPORTED_SUBPROTOCOL) {
        ws.close(1002, `subprotocol ${FoxgloveServer.SUPPORTED_SUBPROTOCOL} required`);
        return;
      }
      const client = new GuardedSocket(ws, name, {
        maxBufferedBytes: this.#maxBufferedBytes,
        counters: this.#counters,
        log: this.#log,
      });
      this.#clients.add(client);
      ws.on('close', () => this.#clients.delete(client));
      this.#discover(); // so this viewer's first advertise also lists topics that have not published yet
      this.#server.handleConnection(client, name);
    });
    this.#discover();
    this.#untap = options.bus.tap((topic, type, message) => this.#onMessage(topic, type, message));
  }

  static async start(options: LiveViewOptions): Promise<LiveView> {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`live view port must be an integer in 0..65535, got ${port}`);
    }
    const imageRateHz = options.maxImageRateHz ?? DEFAULT_IMAGE_RATE_HZ;
    if (!(imageRateHz > 0)) throw new RangeError(`maxImageRateHz must be positive, got ${imageRateHz}`);
    const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (!(maxBufferedBytes >= 0)) {
      throw new RangeError(`maxBufferedBytes must be >= 0, got ${maxBufferedBytes}`);
    }

    const wss = new WebSocketServer({
      host,
      port,
      handleProtocols: (protocols) =>
        protocols.has(FoxgloveServer.SUPPORTED_SUBPROTOCOL) ? FoxgloveServer.SUPPORTED_SUBPROTOCOL : false,
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        wss.close();
        reject(new LiveViewListenError(host, port, { cause: error }));
      };
      wss.once('error', onError);
      wss.once('listening', () => {
        wss.off('error', onError);
        resolve();
      });
    });
    return new LiveView(wss, host, options, { imageRateHz, maxBufferedBytes });
  }

  stats(): LiveViewStats {
    return { ...this.#counters, throttled: this.#throttled };
  }

  /** Stops watching the bus, says goodbye to every viewer and stops listening. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#untap();
    const sockets = [...this.#wss.clients];
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            // A viewer that never answers the closing handshake must not hold close() hostage.
            const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            ws.close(1001, 'live view closing');
          }),
      ),
    );
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #setSubscribed(id: ChannelId, subscribed: boolean): void {
    const channel = this.#byId.get(id);
    if (channel === undefined) return;
    channel.subscribed = subscribed;
    // A new subscriber gets the next frame at once rather than waiting out the rate limit.
    if (subscribed) channel.lastAcceptedMs = undefined;
  }

  #advertise(topic: string, type: MessageTypeName): Channel {
    const { schemaName, schema } = channelSchema(type);
    const id = this.#server.addChannel({
      topic,
      encoding: 'json',
      schemaName,
      schema,
      schemaEncoding: 'jsonschema',
    });
    const channel: Channel = {
      id,
      topic,
      type,
      image: isImageType(type),
      subscribed: false,
      lastAcceptedMs: undefined,
      reportedFailure: false,
    };
    this.#channels.set(topic, channel);
    this.#byId.set(id, channel);
    return channel;
  }

  #discover(): void {
    for (const [topic, { type }] of this.#bus.topics()) {
      if (!this.#channels.has(topic)) this.#advertise(topic, type);
    }
  }

  // Runs inside the publisher's publish() call: it must be cheap and must never throw.
  #onMessage(topic: string, type: MessageTypeName, message: unknown): void {
    let channel = this.#channels.get(topic);
    try {
      if (channel === undefined) {
        channel = this.#advertise(topic, type);
        this.#discover(); // one new topic hints at others created without publishing yet
      }
      if (!channel.subscribed || this.#clients.size === 0) return;
      const now = this.#clock.now();
      if (!channel.image) {
        this.#send(channel, message, now);
        return;
      }
      const last = channel.lastAcceptedMs;
      // A clock that stepped backwards (sim reset) restarts the limit instead of muting the camera.
      if (last !== undefined && now >= last && now - last < this.#minImageIntervalMs) {
        this.#throttled += 1;
        return;
      }
      channel.lastAcceptedMs = now;
      // Base64 of a 640x480 frame costs milliseconds: do it after the publisher's call returns.
      const accepted = channel;
      setImmediate(() => {
        if (this.#closing !== undefined || !accepted.subscribed) return;
        if ([...this.#clients].every((c) => c.congested)) {
          this.#counters.backpressured += this.#clients.size;
          return;
        }
        this.#send(accepted, message, now);
      });
    } catch (error) {
      this.#fail(channel, topic, error);
    }
  }

  #send(channel: Channel, message: unknown, nowMs: number): void {
    try {
      const { timestamp, payload } = encodeMessage(channel.type, message, nowMs);
      this.#server.sendMessage(channel.id, timestamp, payload);
    } catch (error) {
      this.#fail(channel, channel.topic, error);
    }
  }

  #fail(channel: Channel | undefined, topic: string, error: unknown): void {
    this.#counters.failed += 1;
    if (channel?.reportedFailure === true) return;
    if (channel !== undefined) channel.reportedFailure = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.#log(`cannot forward ${topic}: ${reason}; later failures on it are counted, not logged`);
  }
}
