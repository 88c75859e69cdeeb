// The agent's and the publisher's MQTT side (mqtt.js), on any MQTT 3.1.1 or 5 broker: the
// release manifest and the artifact's chunks are retained QoS 1 messages, so a robot that was
// offline finds the newest release when it connects, and every chunk of it, without a
// persistent session; a robot's status is retained too, so telemetry sees each robot's state.
import mqtt, { type MqttClient } from 'mqtt';
import { BrokerConnectError, PublishError } from '../exchange/index.ts';
import { checkName } from '../exchange/topics.ts';
import type { OtaLink } from './agent.ts';
import { OtaStatusSchema, type OtaStatus } from './status.ts';
import {
  artifactChunkFilter,
  artifactChunkTopic,
  chunkIndexOf,
  releaseTopic,
  statusTopic,
} from './topics.ts';

export interface MqttOtaOptions {
  readonly url: string;
  readonly fleet: string;
  /** Client id suffix: the robot id, or "publisher". */
  readonly client: string;
  readonly log?: (line: string) => void;
  readonly connectTimeoutMs?: number;
}

async function connectClient(o: MqttOtaOptions): Promise<MqttClient> {
  checkName('fleet', o.fleet);
  checkName('silo', o.client);
  try {
    return await mqtt.connectAsync(o.url, {
      clientId: `fadnet-${o.fleet}-${o.client}-ota-${process.pid}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
    });
  } catch (error) {
    throw new BrokerConnectError(o.url, (error as Error).message, { cause: error });
  }
}

export class MqttOtaLink implements OtaLink {
  readonly #client: MqttClient;
  readonly #fleet: string;
  readonly #robot: string;
  readonly #releaseListeners: ((payload: Uint8Array) => void)[] = [];
  readonly #chunkListeners = new Map<string, (index: number, data: Uint8Array) => void>();
  #closed = false;

  private constructor(client: MqttClient, o: MqttOtaOptions) {
    this.#client = client;
    this.#fleet = o.fleet;
    this.#robot = o.client;
  }

  static async connect(o: MqttOtaOptions): Promise<MqttOtaLink> {
    const client = await connectClient(o);
    const link = new MqttOtaLink(client, o);
    const log = o.log ?? ((line: string) => console.error(line));
    client.on('message', (topic, payload) => link.#onMessage(topic, payload));
    client.on('error', (error) => {
      if (!link.#closed) log(`ota ${o.client}: ${error.message}`);
    });
    client.on('offline', () => {
      if (!link.#closed) log(`ota ${o.client}: broker ${o.url} unreachable, retrying`);
    });
    return link;
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (topic === releaseTopic(this.#fleet)) {
      if (payload.length === 0) return; // a cleared release
      for (const l of this.#releaseListeners) l(new Uint8Array(payload));
      return;
    }
    for (const [sha, listener] of this.#chunkListeners) {
      const index = chunkIndexOf(this.#fleet, sha, topic);
      if (index !== undefined && payload.length > 0) listener(index, new Uint8Array(payload));
    }
  }

  onRelease(listener: (payload: Uint8Array) => void): void {
    this.#releaseListeners.push(listener);
    if (this.#releaseListeners.length === 1)
      this.#client.subscribe(releaseTopic(this.#fleet), { qos: 1 }, (error) => {
        if (error) console.error(`ota ${this.#robot}: cannot subscribe to releases: ${error.message}`);
      });
  }

  async subscribeArtifact(
    sha256: string,
    onChunk: (index: number, data: Uint8Array) => void,
  ): Promise<() => Promise<void>> {
    this.#chunkListeners.set(sha256, onChunk);
    const filter = artifactChunkFilter(this.#fleet, sha256);
    await this.#client.subscribeAsync(filter, { qos: 1 });
    return async () => {
      this.#chunkListeners.delete(sha256);
      if (!this.#closed) await this.#client.unsubscribeAsync(filter);
    };
  }

  async publishStatus(status: OtaStatus): Promise<void> {
    if (this.#closed) return;
    const checked = OtaStatusSchema.parse(status);
    await this.#client.publishAsync(statusTopic(this.#fleet, checked.robot), JSON.stringify(checked), {
      qos: 1,
      retain: true,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.endAsync();
  }
}

/** The publishing side: chunks first, then the manifest, all retained QoS 1 and acknowledged. */
export class MqttOtaPublisher {
  readonly #client: MqttClient;
  readonly #fleet: string;

  private constructor(client: MqttClient, fleet: string) {
    this.#client = client;
    this.#fleet = fleet;
  }

  static async connect(o: MqttOtaOptions): Promise<MqttOtaPublisher> {
    return new MqttOtaPublisher(await connectClient(o), o.fleet);
  }

  async publishChunk(sha256: string, index: number, data: Uint8Array): Promise<void> {
    await this.#publish(artifactChunkTopic(this.#fleet, sha256, index), data);
  }

  /** The release manifest, published after its chunks so a robot that sees it finds them all. */
  async publishRelease(manifest: Uint8Array): Promise<void> {
    await this.#publish(releaseTopic(this.#fleet), manifest);
  }

  /** Clears a retained artifact (empty retained messages) once no robot needs it. */
  async clearArtifact(sha256: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++)
      await this.#publish(artifactChunkTopic(this.#fleet, sha256, i), new Uint8Array(0));
  }

  async #publish(topic: string, payload: Uint8Array): Promise<void> {
    try {
      await this.#client.publishAsync(
        topic,
        Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        {
          qos: 1,
          retain: true,
        },
      );
    } catch (error) {
      throw new PublishError(`ota: ${topic} was not acknowledged: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    await this.#client.endAsync();
  }
}
