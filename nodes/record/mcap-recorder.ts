// Records ROS 2 messages to MCAP the way rosbag2's MCAP storage does: profile `ros2`, one
// `ros2msg` schema per type (the complete .msg text), one `cdr` channel per topic, chunked and
// indexed with a summary so readers can seek. Files open in Foxglove and play with `ros2 bag play`.
import { open, type FileHandle } from 'node:fs/promises';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { McapWriter } from '@mcap/core';
import { FileHandleWritable } from '@mcap/nodejs';
import { TopicTypeError, type MessageTypeName, type MessageTypes } from '../runtime/index.ts';
import { ros2msgDefinition } from './definitions.ts';
import { RecordingError, SerializationError } from './errors.ts';

/** rosbag2's MCAP plugin default: a 640x480 rgb8 frame (900 KiB) fills about one chunk. */
export const DEFAULT_CHUNK_BYTES = 768 * 1024;

export interface RecordedTopic {
  readonly topic: string;
  readonly type: MessageTypeName;
}

export interface McapRecorderOptions {
  /** Channels registered up front, so a topic that never publishes still shows in the file. */
  readonly topics?: readonly RecordedTopic[];
  readonly chunkBytes?: number;
}

export interface TopicCount {
  readonly type: MessageTypeName;
  readonly messages: number;
}

export interface RecordingSummary {
  readonly file: string;
  readonly messages: number;
  readonly topics: ReadonlyMap<string, TopicCount>;
}

interface TypeEntry {
  readonly writer: MessageWriter;
  schemaId: number | undefined;
}

interface ChannelEntry {
  readonly type: MessageTypeName;
  id: number | undefined;
  sequence: number;
  messages: number;
}

/** Fractional milliseconds (up to 1.7e12) to integer nanoseconds without double rounding loss. */
export function nsFromMs(ms: number): bigint {
  if (!(ms > 0)) return 0n;
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

export class McapRecorder {
  readonly file: string;
  readonly #handle: FileHandle;
  readonly #writer: McapWriter;
  readonly #types = new Map<MessageTypeName, TypeEntry>();
  readonly #channels = new Map<string, ChannelEntry>();
  // McapWriter corrupts the file if calls overlap, so every call goes through one chain.
  #tail: Promise<void> = Promise.resolve();
  #failure: RecordingError | undefined;
  #pendingBytes = 0;
  #messages = 0;
  #closed = false;

  private constructor(file: string, handle: FileHandle, writer: McapWriter) {
    this.file = file;
    this.#handle = handle;
    this.#writer = writer;
  }

  static async open(file: string, options: McapRecorderOptions = {}): Promise<McapRecorder> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'w');
    } catch (error) {
      throw new RecordingError(`cannot create recording ${file}`, file, { cause: error });
    }
    const writer = new McapWriter({
      writable: new FileHandleWritable(handle),
      chunkSize: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
    });
    const recorder = new McapRecorder(file, handle, writer);
    recorder.#enqueue(() => writer.start({ profile: 'ros2', library: 'fadnet-edge' }));
    for (const { topic, type } of options.topics ?? []) recorder.#channel(topic, type);
    await recorder.#tail;
    if (recorder.#failure !== undefined) {
      await handle.close().catch(() => undefined);
      throw recorder.#failure;
    }
    return recorder;
  }

  /** Bytes serialized but not yet handed to the file; a live recorder drops frames above a bound. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Serializes the message now (so a publisher may reuse its buffers as soon as this returns)
   * and appends it in call order. The promise settles once the bytes reach the writer.
   * @throws TopicTypeError when the topic was recorded under another type (a wiring mistake).
   */
  write<K extends MessageTypeName>(
    topic: string,
    type: K,
    message: MessageTypes[K],
    logTimeNs: bigint,
  ): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new RecordingError(`recording ${this.file} is closed`, this.file));
    }
    if (logTimeNs < 0n) throw new RangeError(`log time must be non-negative, got ${logTimeNs} ns`);
    const channel = this.#channel(topic, type);
    let data: Uint8Array;
    try {
      data = this.#type(type).writer.writeMessage(message);
    } catch (error) {
      return Promise.reject(
        new SerializationError(`message on ${topic} does not encode as ${type}`, topic, type, {
          cause: error,
        }),
      );
    }
    const sequence = channel.sequence++;
    channel.messages += 1;
    this.#messages += 1;
    this.#pendingBytes += data.byteLength;
    return this.#enqueue(async () => {
      try {
        await this.#writer.addMessage({
          channelId: channel.id!,
          sequence,
          logTime: logTimeNs,
          // rosbag2 stores the receive time in both fields; there is no separate publish time here.
          publishTime: logTimeNs,
          data,
        });
      } finally {
        this.#pendingBytes -= data.byteLength;
      }
    });
  }

  counts(): ReadonlyMap<string, TopicCount> {
    const out = new Map<string, TopicCount>();
    for (const [topic, c] of this.#channels) out.set(topic, { type: c.type, messages: c.messages });
    return out;
  }

  /** Writes the summary and index (without them readers cannot seek) and closes the file. */
  async close(): Promise<RecordingSummary> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#enqueue(() => this.#writer.end()).catch(() => undefined);
      try {
        await this.#handle.close();
      } catch (error) {
        this.#failure ??= new RecordingError(`cannot close recording ${this.file}`, this.file, {
          cause: error,
        });
      }
    }
    if (this.#failure !== undefined) throw this.#failure;
    return { file: this.file, messages: this.#messages, topics: this.counts() };
  }

  #type(type: MessageTypeName): TypeEntry {
    let entry = this.#types.get(type);
    if (entry === undefined) {
      const definition = ros2msgDefinition(type);
      const newEntry: TypeEntry = {
        writer: new MessageWriter(parse(definition, { ros2: true })),
        schemaId: undefined,
      };
      entry = newEntry;
      this.#types.set(type, newEntry);
      void this.#enqueue(async () => {
        newEntry.schemaId = await this.#writer.registerSchema({
          name: type,
          encoding: 'ros2msg',
          data: new TextEncoder().encode(definition),
        });
      }).catch(() => undefined);
    }
    return entry;
  }

  #channel(topic: string, type: MessageTypeName): ChannelEntry {
    const existing = this.#channels.get(topic);
    if (existing !== undefined) {
      if (existing.type !== type)
        throw new TopicTypeError(`topic ${topic} carries ${existing.type}, not ${type}`);
      return existing;
    }
    const typeEntry = this.#type(type);
    const entry: ChannelEntry = { type, id: undefined, sequence: 0, messages: 0 };
    this.#channels.set(topic, entry);
    void this.#enqueue(async () => {
      entry.id = await this.#writer.registerChannel({
        topic,
        schemaId: typeEntry.schemaId!,
        messageEncoding: 'cdr',
        metadata: new Map(),
      });
    }).catch(() => undefined);
    return entry;
  }

  /** Runs after everything queued before it; after the first failure nothing more is written. */
  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.#failure !== undefined) throw this.#failure;
      try {
        await step();
      } catch (error) {
        this.#failure = new RecordingError(`writing recording ${this.file} failed`, this.file, {
          cause: error,
        });
        throw this.#failure;
      }
    };
    const result = this.#tail.then(run);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
