// PeerExchange over MQTT (mqtt.js): the thin adapter around the pure codec, envelope and
// receiver. It uses only what MQTT 3.1.1 and 5 both specify (QoS 1, retained messages, a Last
// Will, persistent sessions), so the same code runs on the embedded aedes broker, mosquitto
// (bridged or not) and clustered brokers such as EMQX or HiveMQ. Topic layout: README.md here.

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { z } from 'zod';

import { validateWeights, type WeightSet } from '../../models/src/weights/weight-set.ts';
import { encodeWeights } from './codec.ts';
import { chunkUpdate } from './envelope.ts';
import { BrokerConnectError, ExchangeConfigError, PublishError } from './errors.ts';
import { weightNorm, type NormGateOptions } from './gates.ts';
import { ModelInbox, systemClock, type ExchangeClock } from './inbox.ts';
import type { SiloKeys, TrustedKeys } from './keys.ts';
import type { ReassemblyLimits } from './reassembly.ts';
import { DEFAULT_REASSEMBLY_LIMITS } from './reassembly.ts';
import { UpdateReceiver, type ReceiveEvent } from './receiver.ts';
import {
  checkName,
  chunkFilter,
  chunkTopic,
  parseTopic,
  presenceFilter,
  presenceTopic,
  resyncFilter,
  resyncTopic,
} from './topics.ts';
import type { Encoding, ModelUpdate, PeerExchange, Rejection } from './types.ts';

export interface ConnectOptions {
  /** mqtt://host:port (or mqtts://, ws://) of any MQTT 3.1.1 or 5 broker. */
  readonly url: string;
  readonly fleet: string;
  readonly silo: string;
  /** This silo's signing key. */
  readonly keys: SiloKeys;
  /** The fleet's trusted public keys; updates from any other signer are refused. */
  readonly trusted: TrustedKeys;
  /** How this silo's updates travel. */
  readonly encoding: Encoding;
  /** Receive only these peers' models (the overlay's in-neighbours); every silo of the fleet when absent. */
  readonly peers?: readonly string[];
  /** Payload bytes per chunk message (64 KiB by default). */
  readonly chunkBytes?: number;
  /** Recent rounds held per peer (8 by default). */
  readonly heldRounds?: number;
  readonly limits?: ReassemblyLimits;
  readonly norm?: NormGateOptions;
  /** MQTT protocol: 4 (3.1.1, the default) or 5. */
  readonly protocolVersion?: 4 | 5;
  readonly clock?: ExchangeClock;
  /** One line per event worth a human's attention (rejections, reconnects); stderr by default. */
  readonly log?: (line: string) => void;
  readonly connectTimeoutMs?: number;
  readonly reconnectPeriodMs?: number;
}

export interface ExchangeStats {
  readonly published: number;
  readonly accepted: number;
  /** Chunks of updates already accepted or refused (redeliveries, retained copies, republishes). */
  readonly duplicates: number;
  readonly rejected: number;
  /** Payloads being reassembled now. */
  readonly pending: number;
  readonly reconnects: number;
  /** Chunk message bytes this silo published (republishes included) and received from peers (duplicates included). */
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

/** A silo's retained presence; its Last Will says offline. */
export const presenceSchema = z.strictObject({
  v: z.literal(1),
  silo: z.string(),
  state: z.enum(['online', 'offline']),
  at: z.number(),
  encoding: z.enum(['f32', 'f16', 'int8', 'int8-channel']).optional(),
});
export type Presence = z.infer<typeof presenceSchema>;

/** A silo's request, after it lost its session, that every silo publish its held rounds again. */
const resyncSchema = z.strictObject({ v: z.literal(1), silo: z.string(), at: z.number() });

const DEFAULT_CHUNK_BYTES = 64 * 1024;
const DEFAULT_HELD_ROUNDS = 8;
/** Session kept by an MQTT 5 broker while the silo is away (3.1.1 brokers keep it until cleaned). */
const SESSION_EXPIRY_S = 3600;
/** How long close() lets chunks in flight finish before it drops the connection. */
const CLOSE_GRACE_MS = 2000;

export class MqttExchange implements PeerExchange {
  readonly silo: string;
  readonly #o: ConnectOptions;
  /** The peers whose models this silo subscribes to; undefined: every silo of the fleet. */
  #peers: readonly string[] | undefined;
  readonly #client: MqttClient;
  readonly #clock: ExchangeClock;
  readonly #log: (line: string) => void;
  readonly #receiver: UpdateReceiver;
  readonly #inbox: ModelInbox;
  readonly #listeners = new Set<(r: Rejection) => void>();
  readonly #presence = new Map<string, Presence>();
  #counter = 0;
  /**
   * This silo's updates of its last heldRounds rounds (round -> chunk messages, in publishing
   * order), kept to publish again when a broker lost them before every peer had them.
   */
  readonly #sent = new Map<number, Uint8Array[]>();
  /** Chunk topics of this silo that may hold a retained chunk (cleared when an update is shorter). */
  #retainedCount = 0;
  #republishing = false;
  #republishAgain = false;
  #connects = 0;
  #closed = false;
  #cancelExpiry: () => void = () => {};
  #stats = {
    published: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    reconnects: 0,
    bytesSent: 0,
    bytesReceived: 0,
  };

  private constructor(o: ConnectOptions, client: MqttClient) {
    this.silo = o.silo;
    this.#o = o;
    this.#peers = o.peers;
    this.#client = client;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log ?? ((line) => console.error(line));
    this.#receiver = new UpdateReceiver({
      fleet: o.fleet,
      heldRounds: o.heldRounds ?? DEFAULT_HELD_ROUNDS,
      self: o.silo,
      trusted: o.trusted,
      limits: o.limits ?? DEFAULT_REASSEMBLY_LIMITS,
      ...(o.norm === undefined ? {} : { norm: o.norm }),
    });
    this.#inbox = new ModelInbox(o.heldRounds ?? DEFAULT_HELD_ROUNDS, this.#clock);
  }

  /** Connects, subscribes and announces presence; throws BrokerConnectError when the broker cannot be reached. */
  static async connect(o: ConnectOptions): Promise<MqttExchange> {
    checkName('fleet', o.fleet);
    checkName('silo', o.silo);
    for (const p of o.peers ?? []) checkName('silo', p);
    const own = o.trusted.get(o.silo);
    if (own !== undefined && !own.equals(o.keys.publicKey)) {
      throw new ExchangeConfigError(
        `silo "${o.silo}"'s key does not match its entry in the trusted keys: peers would refuse every update`,
      );
    }
    const v5 = o.protocolVersion === 5;
    const options: IClientOptions = {
      clientId: `fadnet-${o.fleet}-${o.silo}`,
      protocolVersion: v5 ? 5 : 4,
      // A persistent session: QoS 1 chunks published while this silo was briefly away are queued.
      clean: false,
      resubscribe: false, // #onConnect subscribes on every connection, session or not
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      keepalive: 30,
      will: {
        topic: presenceTopic(o.fleet, o.silo),
        payload: Buffer.from(JSON.stringify({ v: 1, silo: o.silo, state: 'offline', at: 0 })),
        qos: 1,
        retain: true,
      },
      ...(v5 ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } } : {}),
    };
    const client = mqtt.connect(o.url, options);
    const exchange = new MqttExchange(o, client);
    // Handlers go on before the first CONNACK, so messages a persistent session queued are not missed.
    client.on('message', (topic, payload) => exchange.#onMessage(topic, payload));
    try {
      const sessionPresent = await new Promise<boolean>((resolve, reject) => {
        const fail = (error: Error): void => {
          client.off('connect', ok);
          reject(error);
        };
        const ok = (connack: { sessionPresent: boolean }): void => {
          client.off('error', fail);
          client.off('close', closed);
          resolve(connack.sessionPresent);
        };
        const closed = (): void => fail(new Error('connection closed before CONNACK'));
        client.once('connect', ok);
        client.once('error', fail);
        client.once('close', closed);
      });
      await exchange.#onConnect(sessionPresent);
    } catch (error) {
      client.end(true);
      throw new BrokerConnectError(o.url, (error as Error).message, { cause: error });
    }
    client.on('connect', (connack) => {
      exchange.#stats.reconnects++;
      exchange.#log(`fleet exchange ${o.silo}: reconnected to ${o.url}`);
      exchange
        .#onConnect(connack.sessionPresent)
        .catch((error: unknown) =>
          exchange.#log(`fleet exchange ${o.silo}: after reconnecting: ${(error as Error).message}`),
        );
    });
    client.on('offline', () =>
      exchange.#log(`fleet exchange ${o.silo}: broker ${o.url} unreachable, retrying`),
    );
    client.on('error', (error) => {
      // After close() the socket's last writes may fail; that is the end we asked for, not news.
      if (!exchange.#closed) exchange.#log(`fleet exchange ${o.silo}: ${error.message}`);
    });
    exchange.#scheduleExpiry();
    return exchange;
  }

  async publishModel(round: number, weights: WeightSet): Promise<void> {
    if (this.#closed) throw new PublishError(`silo ${this.silo}: publishModel after close()`);
    if (!(Number.isSafeInteger(round) && round >= 0)) {
      throw new RangeError(`round must be a non-negative integer, got ${round}`);
    }
    const checked = validateWeights(weights); // a bad local model is a programming error: throws WeightError
    // Strictly increasing, and across restarts too without storing it: the clock moves on.
    this.#counter = Math.max(this.#counter + 1, Math.floor(this.#clock.now()));
    const chunks = chunkUpdate({
      fleet: this.#o.fleet,
      silo: this.silo,
      round,
      counter: this.#counter,
      encoding: this.#o.encoding,
      payload: encodeWeights(checked, this.#o.encoding),
      privateKey: this.#o.keys.privateKey,
      chunkBytes: this.#o.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    });
    this.#receiver.noteOwnNorm(weightNorm(checked));
    this.#sent.delete(round); // a round published again replaces its update, and moves to the end
    this.#sent.set(round, chunks);
    if (this.#sent.size > (this.#o.heldRounds ?? DEFAULT_HELD_ROUNDS)) {
      this.#sent.delete(this.#sent.keys().next().value!);
    }
    const stale = this.#retainedCount;
    this.#retainedCount = chunks.length;
    await this.#publishChunks([chunks], stale);
    this.#stats.published++;
  }

  modelOf(
    peer: string,
    round: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ModelUpdate | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    return this.#inbox.wait(peer, round, timeoutMs, signal);
  }

  newest(peer: string): ModelUpdate | undefined {
    return this.#inbox.newest(peer);
  }

  /** Rounds of `peer` held now, ascending. */
  heldRounds(peer: string): number[] {
    return this.#inbox.heldRounds(peer);
  }

  /** The newest retained presence of `peer` (online, or offline by its Last Will or its close). */
  presence(peer: string): Presence | undefined {
    return this.#presence.get(peer);
  }

  onRejected(listener: (rejection: Rejection) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stats(): ExchangeStats {
    return { ...this.#stats, pending: this.#receiver.pending };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelExpiry();
    this.#inbox.close();
    if (this.#client.connected) {
      // Say goodbye in the retained status, as the Last Will would have on a crash.
      await this.#client
        .publishAsync(presenceTopic(this.#o.fleet, this.silo), this.#presenceBytes('offline'), {
          qos: 1,
          retain: true,
        })
        .catch(() => undefined);
    }
    // A graceful end waits for chunks in flight; with the broker gone that would be forever.
    let timer: NodeJS.Timeout | undefined;
    const graceful = this.#client.endAsync(false).then(() => true);
    const gaveUp = new Promise<boolean>(
      (resolve) => (timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS)),
    );
    const ended = await Promise.race([graceful, gaveUp]);
    clearTimeout(timer);
    if (!ended) await this.#client.endAsync(true);
  }

  /**
   * Adds peers whose models this silo receives: a live plan names new in-neighbours some rounds
   * before it takes effect, and subscribing then delivers each new peer's retained newest model
   * at once. Peers are never dropped while connected: aedes disconnects a client that
   * unsubscribes while QoS 1 deliveries on that filter are in flight ("no such packet"), and a
   * fleet's silos are the plan's fixed ids, so the set stays bounded; models of a peer no longer
   * mixed age out of the inbox's round window.
   */
  async addPeers(peers: readonly string[]): Promise<void> {
    for (const p of peers) checkName('silo', p);
    if (this.#peers === undefined) return; // already every silo
    const added = peers.filter((p) => !this.#peers!.includes(p));
    if (added.length === 0) return;
    this.#peers = [...this.#peers, ...added];
    await this.#client.subscribeAsync(this.#chunkFilters(added), { qos: 1 });
  }

  /** The peers this silo receives models from; undefined: every silo. */
  get peers(): readonly string[] | undefined {
    return this.#peers;
  }

  #chunkFilters(peers: readonly string[] | undefined): string[] {
    return (peers ?? [undefined]).map((p) => chunkFilter(this.#o.fleet, p));
  }

  async #onConnect(sessionPresent: boolean): Promise<void> {
    const first = this.#connects++ === 0;
    const { fleet } = this.#o;
    const filters = this.#chunkFilters(this.#peers);
    await this.#client.subscribeAsync([...filters, presenceFilter(fleet), resyncFilter(fleet)], { qos: 1 });
    await this.#client.publishAsync(presenceTopic(fleet, this.silo), this.#presenceBytes('online'), {
      qos: 1,
      retain: true,
    });
    if (first) return;
    if (sessionPresent) {
      // The broker kept its store; publishing the newest again costs one model and covers a
      // broker that kept sessions but not retained messages. Receivers drop it as a duplicate.
      const newest = [...this.#sent.values()].at(-1);
      if (newest !== undefined) await this.#publishChunks([newest], 0);
      return;
    }
    // The broker lost its sessions, so it may have lost chunks it acknowledged to a peer and
    // queued for this silo: ask every silo online for its held rounds (peers that reconnect
    // after this request publish theirs on their own reconnect), and publish ours.
    const request: z.infer<typeof resyncSchema> = { v: 1, silo: this.silo, at: this.#clock.now() };
    await this.#client.publishAsync(resyncTopic(fleet, this.silo), JSON.stringify(request), { qos: 1 });
    this.#republishHeld('reconnected without a session');
  }

  /**
   * Publishes every held round again, oldest first so the newest is what stays retained. One pass
   * at a time: requests that arrive during a pass are served by one more pass after it.
   */
  #republishHeld(why: string): void {
    if (this.#republishing) {
      this.#republishAgain = true;
      return;
    }
    this.#republishing = true;
    const pass = async (): Promise<void> => {
      do {
        this.#republishAgain = false;
        const updates = [...this.#sent.values()];
        if (updates.length === 0) return;
        const stale = Math.max(this.#retainedCount, ...updates.map((u) => u.length));
        this.#retainedCount = updates.at(-1)!.length;
        await this.#publishChunks(updates, stale);
      } while (this.#republishAgain && !this.#closed);
    };
    pass()
      .catch((error: unknown) => {
        if (!this.#closed) {
          this.#log(
            `fleet exchange ${this.silo}: republishing held rounds (${why}): ${(error as Error).message}`,
          );
        }
      })
      .finally(() => (this.#republishing = false));
  }

  /** Publishes the updates' chunks in order; the last update is the one left retained. */
  async #publishChunks(updates: readonly (readonly Uint8Array[])[], staleCount: number): Promise<void> {
    const { fleet } = this.#o;
    for (const chunks of updates) for (const c of chunks) this.#stats.bytesSent += c.length;
    const sends = updates.flatMap((chunks) =>
      chunks.map((c, i) =>
        this.#client.publishAsync(
          chunkTopic(fleet, this.silo, i),
          Buffer.from(c.buffer, c.byteOffset, c.length),
          { qos: 1, retain: true },
        ),
      ),
    );
    // An empty retained message deletes a retained chunk the previous, longer update left behind.
    for (let i = updates.at(-1)?.length ?? 0; i < staleCount; i++) {
      sends.push(
        this.#client.publishAsync(chunkTopic(fleet, this.silo, i), Buffer.alloc(0), { qos: 1, retain: true }),
      );
    }
    try {
      await Promise.all(sends);
    } catch (error) {
      throw new PublishError(`silo ${this.silo}: the broker did not acknowledge every chunk`, {
        cause: error,
      });
    }
  }

  #presenceBytes(state: 'online' | 'offline'): Buffer {
    const p: Presence = { v: 1, silo: this.silo, state, at: this.#clock.now(), encoding: this.#o.encoding };
    return Buffer.from(JSON.stringify(p));
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (this.#closed) return;
    const t = parseTopic(this.#o.fleet, topic);
    switch (t.kind) {
      case 'other':
        return;
      case 'presence':
        this.#onPresence(t.silo, payload);
        return;
      case 'resync':
        if (t.silo !== this.silo) this.#onResync(t.silo, payload);
        return;
      case 'chunk':
        // Own chunks echo back on a wildcard subscription; an empty one is a cleared retained chunk.
        if (t.silo === this.silo || payload.length === 0) return;
        this.#stats.bytesReceived += payload.length;
        for (const e of this.#receiver.receive(t.silo, payload, this.#clock.now())) this.#onEvent(e);
        return;
    }
  }

  #onPresence(silo: string, payload: Buffer): void {
    if (payload.length === 0) return;
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = undefined;
    }
    const parsed = presenceSchema.safeParse(json);
    if (!parsed.success || parsed.data.silo !== silo) {
      this.#log(
        `fleet exchange ${this.silo}: ignored a malformed presence message on silo "${silo}"'s topic`,
      );
      return;
    }
    this.#presence.set(silo, parsed.data);
  }

  #onResync(silo: string, payload: Buffer): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      json = undefined;
    }
    const parsed = resyncSchema.safeParse(json);
    if (!parsed.success || parsed.data.silo !== silo) {
      this.#log(`fleet exchange ${this.silo}: ignored a malformed resync request on silo "${silo}"'s topic`);
      return;
    }
    this.#republishHeld(`silo ${silo} lost its session`);
  }

  #onEvent(e: ReceiveEvent): void {
    switch (e.kind) {
      case 'accepted':
        this.#stats.accepted++;
        this.#inbox.put(e.update);
        return;
      case 'duplicate':
        this.#stats.duplicates++;
        return;
      case 'progress':
        return;
      case 'rejected': {
        this.#stats.rejected++;
        const r = e.rejection;
        this.#log(
          `fleet exchange ${this.silo}: rejected update from ${r.silo ?? 'unknown silo'} round ${r.round ?? '?'}: ${r.reason}`,
        );
        for (const l of this.#listeners) l(r);
        return;
      }
    }
  }

  #scheduleExpiry(): void {
    const period = Math.max(100, (this.#o.limits ?? DEFAULT_REASSEMBLY_LIMITS).timeoutMs / 4);
    const tick = (): void => {
      for (const e of this.#receiver.expire(this.#clock.now())) this.#onEvent(e);
      this.#cancelExpiry = this.#clock.after(period, tick);
    };
    this.#cancelExpiry = this.#clock.after(period, tick);
  }
}

/** The async factory the silo uses: `connect({ url, fleet, silo, keys, trusted, encoding })`. */
export const connect = (o: ConnectOptions): Promise<MqttExchange> => MqttExchange.connect(o);
