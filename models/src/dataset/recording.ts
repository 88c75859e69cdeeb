// One recorded MCAP file opened for random access: the summary index is read once, message
// definitions come from the file's own `ros2msg` schemas, and frames are fetched one chunk at a
// time, so an hour of camera frames never has to fit in memory.
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { parse } from '@foxglove/rosmsg';
import { MessageReader } from '@foxglove/rosmsg2-serialization';
import { McapIndexedReader } from '@mcap/core';
import { FileHandleReadable } from '@mcap/nodejs';
import type { CompressedImageData, RawImage } from '../preprocess/index.ts';
import { DatasetFileError } from './errors.ts';

const IMAGE = 'sensor_msgs/msg/Image';
const COMPRESSED_IMAGE = 'sensor_msgs/msg/CompressedImage';
const FLOAT32 = 'std_msgs/msg/Float32';

/** Message indexes are small; caching them spares a read per random frame fetch. */
const MESSAGE_INDEX_CACHE_BYTES = 256 * 1024;

export type DecodedFrame =
  | { readonly kind: 'raw'; readonly image: RawImage }
  | { readonly kind: 'compressed'; readonly image: CompressedImageData };

export interface RecordedMessage {
  readonly topic: string;
  readonly logTime: bigint;
  readonly data: Uint8Array;
}

/** A frame's place in its file: log time, and its position among frames logged at that time. */
export interface FrameRef {
  readonly logTime: bigint;
  readonly ordinal: number;
}

interface TopicDecoder {
  readonly schemaName: string;
  readonly reader: MessageReader;
}

function decoderFor(
  file: string,
  reader: McapIndexedReader,
  topic: string,
  accepted: readonly string[],
): TopicDecoder {
  const channels = [...reader.channelsById.values()];
  const channel = channels.find((c) => c.topic === topic);
  if (channel === undefined) {
    const topics = channels.map((c) => c.topic).join(', ') || 'none';
    throw new DatasetFileError(`${file} has no topic ${topic} (topics: ${topics})`, file);
  }
  const schema = reader.schemasById.get(channel.schemaId);
  if (schema === undefined || !accepted.includes(schema.name)) {
    throw new DatasetFileError(
      `${file}: topic ${topic} carries ${schema?.name ?? 'no schema'}, expected ${accepted.join(' or ')}`,
      file,
    );
  }
  if (schema.encoding !== 'ros2msg' || channel.messageEncoding !== 'cdr') {
    throw new DatasetFileError(
      `${file}: topic ${topic} is ${channel.messageEncoding} with a ${schema.encoding} schema, expected cdr with ros2msg`,
      file,
    );
  }
  try {
    const definitions = parse(new TextDecoder().decode(schema.data), { ros2: true });
    return { schemaName: schema.name, reader: new MessageReader(definitions) };
  } catch (error) {
    throw new DatasetFileError(`${file}: the ${schema.name} schema of ${topic} does not parse`, file, {
      cause: error,
    });
  }
}

export class Recording {
  readonly file: string;
  /** The name the split hashes: the file's base name, so moving a dataset keeps its split. */
  readonly name: string;
  readonly frameTopic: string;
  readonly labelTopic: string;
  readonly #handle: FileHandle;
  readonly #reader: McapIndexedReader;
  readonly #frames: TopicDecoder;
  readonly #labels: TopicDecoder;
  readonly #chunkStarts: readonly { readonly start: bigint; readonly end: bigint }[];

  private constructor(
    file: string,
    handle: FileHandle,
    reader: McapIndexedReader,
    topics: { frame: string; label: string },
  ) {
    this.file = file;
    this.name = path.basename(file);
    this.frameTopic = topics.frame;
    this.labelTopic = topics.label;
    this.#handle = handle;
    this.#reader = reader;
    this.#frames = decoderFor(file, reader, topics.frame, [IMAGE, COMPRESSED_IMAGE]);
    this.#labels = decoderFor(file, reader, topics.label, [FLOAT32]);
    this.#chunkStarts = reader.chunkIndexes
      .map((c) => ({ start: c.messageStartTime, end: c.messageEndTime }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  static async open(file: string, topics: { frame: string; label: string }): Promise<Recording> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      throw new DatasetFileError(`cannot open recording ${file}`, file, { cause: error });
    }
    try {
      const reader = await McapIndexedReader.Initialize({
        readable: new FileHandleReadable(handle),
        messageIndexCacheSizeBytes: MESSAGE_INDEX_CACHE_BYTES,
      });
      return new Recording(file, handle, reader, topics);
    } catch (error) {
      await handle.close().catch(() => undefined);
      if (error instanceof DatasetFileError) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw new DatasetFileError(
        `${file} is not a complete indexed MCAP file (${detail}); a recording cut off before close has no summary`,
        file,
        { cause: error },
      );
    }
  }

  /** Frames and labels in log-time order, read chunk by chunk. */
  async *messages(
    topics: readonly string[] = [this.frameTopic, this.labelTopic],
  ): AsyncGenerator<RecordedMessage> {
    const byChannel = new Map<number, string>();
    for (const c of this.#reader.channelsById.values()) byChannel.set(c.id, c.topic);
    try {
      for await (const m of this.#reader.readMessages({ topics })) {
        yield { topic: byChannel.get(m.channelId) ?? '', logTime: m.logTime, data: m.data };
      }
    } catch (error) {
      throw this.#damaged(error);
    }
  }

  /**
   * The chunk a frame logged at this time lies in, or -1. Frames of one chunk are fetched in one
   * pass: with small frames a chunk holds dozens, and reading it once per frame would multiply I/O.
   */
  chunkOf(logTime: bigint): number {
    const chunks = this.#chunkStarts;
    let lo = 0;
    let hi = chunks.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (chunks[mid]!.start <= logTime) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    const chunk = chunks[found];
    return chunk !== undefined && logTime <= chunk.end ? found : -1;
  }

  /**
   * Reads the frames named by (log time, ordinal among frames logged at that time) in one pass
   * over their time range and hands each one's CDR bytes to `visit`. Returns which were found.
   */
  async visitFrames(
    targets: readonly FrameRef[],
    visit: (target: number, data: Uint8Array) => Promise<void>,
  ): Promise<boolean[]> {
    const found = targets.map(() => false);
    if (targets.length === 0) return found;
    const wanted = new Map<string, number[]>();
    let startTime = targets[0]!.logTime;
    let endTime = startTime;
    targets.forEach((t, i) => {
      const key = `${t.logTime}:${t.ordinal}`;
      wanted.set(key, [...(wanted.get(key) ?? []), i]);
      if (t.logTime < startTime) startTime = t.logTime;
      if (t.logTime > endTime) endTime = t.logTime;
    });
    let lastTime = -1n;
    let ordinal = 0;
    try {
      for await (const m of this.#reader.readMessages({ topics: [this.frameTopic], startTime, endTime })) {
        ordinal = m.logTime === lastTime ? ordinal + 1 : 0;
        lastTime = m.logTime;
        for (const i of wanted.get(`${m.logTime}:${ordinal}`) ?? []) {
          found[i] = true;
          await visit(i, m.data);
        }
      }
    } catch (error) {
      throw this.#damaged(error);
    }
    return found;
  }

  /** @throws whatever the CDR reader throws for bytes that do not decode as the frame type. */
  decodeFrame(data: Uint8Array): DecodedFrame {
    const message = this.#frames.reader.readMessage<RawImage & CompressedImageData>(data);
    return this.#frames.schemaName === IMAGE
      ? { kind: 'raw', image: message }
      : { kind: 'compressed', image: message };
  }

  /** @throws whatever the CDR reader throws for bytes that do not decode as Float32. */
  decodeLabel(data: Uint8Array): number {
    return this.#labels.reader.readMessage<{ data: number }>(data).data;
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }

  #damaged(error: unknown): DatasetFileError {
    const detail = error instanceof Error ? error.message : String(error);
    return new DatasetFileError(`${this.file} has a damaged chunk (${detail})`, this.file, { cause: error });
  }
}
