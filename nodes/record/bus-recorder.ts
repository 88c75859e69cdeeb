// Records chosen topics of an embedded bus (the simulator's) by tapping it: the recorder sees
// every publish, including best-effort camera frames no subscription would be guaranteed.
import type { EmbeddedBus, MessageTypeName, MessageTypes } from '../runtime/index.ts';
import { McapRecorder, nsFromMs, type RecordedTopic, type RecordingSummary } from './mcap-recorder.ts';

export interface BusRecorderOptions {
  /** Topics to record, with their types; a topic on the bus under another type is a wiring error. */
  readonly topics: readonly RecordedTopic[];
  /**
   * Serialized bytes allowed to wait for the disk. Above it new messages are dropped and counted,
   * like a keep-last subscription, instead of memory growing without bound behind a slow disk.
   */
  readonly maxPendingBytes?: number;
  readonly chunkBytes?: number;
  readonly log?: (line: string) => void;
}

export interface BusRecordingSummary extends RecordingSummary {
  /** Messages dropped because the disk fell behind, per topic. */
  readonly dropped: ReadonlyMap<string, number>;
  /** Messages on a recorded topic whose type differed from the one asked for. */
  readonly mismatched: number;
}

const DEFAULT_MAX_PENDING_BYTES = 256 * 1024 * 1024;

export class BusRecorder {
  readonly #recorder: McapRecorder;
  readonly #wanted: ReadonlyMap<string, MessageTypeName>;
  readonly #maxPending: number;
  readonly #log: (line: string) => void;
  readonly #dropped = new Map<string, number>();
  readonly #untap: () => void;
  #mismatched = 0;
  #stopped = false;

  private constructor(bus: EmbeddedBus, recorder: McapRecorder, options: BusRecorderOptions) {
    this.#recorder = recorder;
    this.#wanted = new Map(options.topics.map((t) => [t.topic, t.type]));
    this.#maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.#log = options.log ?? console.error;
    this.#untap = bus.tap((topic, type, message) => this.#onMessage(bus, topic, type, message));
  }

  /** Opens the file and starts recording at once; stop with `close()`. */
  static async start(bus: EmbeddedBus, file: string, options: BusRecorderOptions): Promise<BusRecorder> {
    const recorder = await McapRecorder.open(file, {
      topics: options.topics,
      ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
    });
    return new BusRecorder(bus, recorder, options);
  }

  get file(): string {
    return this.#recorder.file;
  }

  #onMessage(bus: EmbeddedBus, topic: string, type: MessageTypeName, message: unknown): void {
    if (this.#stopped) return;
    const wanted = this.#wanted.get(topic);
    if (wanted === undefined) return;
    if (wanted !== type) {
      // The bus already enforces one type per topic, so this is a recorder misconfiguration:
      // say so once per occurrence and keep recording the other topics.
      this.#mismatched += 1;
      this.#log(`record: ${topic} carries ${type}, configured as ${wanted}; message not recorded`);
      return;
    }
    if (this.#recorder.pendingBytes > this.#maxPending) {
      this.#dropped.set(topic, (this.#dropped.get(topic) ?? 0) + 1);
      return;
    }
    // The tap hands over what the publisher passed, typed by the bus's own topic table.
    const typed = message as MessageTypes[typeof type];
    this.#recorder.write(topic, type, typed, nsFromMs(bus.clock.now())).catch((error: unknown) => {
      // The first write failure stops recording; close() reports it with its cause.
      if (!this.#stopped) this.#log(`record: ${String(error)}; recording stopped`);
      this.#stopped = true;
    });
  }

  /** Stops tapping, waits for queued messages and finishes the file. */
  async close(): Promise<BusRecordingSummary> {
    this.#stopped = true;
    this.#untap();
    const summary = await this.#recorder.close();
    return { ...summary, dropped: new Map(this.#dropped), mismatched: this.#mismatched };
  }
}
