// Recorded MCAP files as (frame, steering) training samples. Opening makes one streaming pass
// per file to pair frames with the expert's steering and to drop what does not decode; after
// that only a small per-sample index stays in memory, frames are fetched from disk on demand
// and preprocessed with the model's own InputSpec, and a byte-bounded cache keeps hot frames.
import type { InputSpec } from '../input-spec.ts';
import { createPreprocessor, FrameError, type Preprocessor } from '../preprocess/index.ts';
import type { TrainingDataset } from '../train/dataset.ts';
import { DatasetFileError, DatasetMessageError, type SkipReason } from './errors.ts';
import { FrameCache, type CacheStats } from './frame-cache.ts';
import { pairNearest } from './pairing.ts';
import { Recording } from './recording.ts';
import { inTestSplit } from './split.ts';

export interface McapDatasetOptions {
  readonly inputSpec: InputSpec;
  readonly frameTopic?: string;
  /** std_msgs/msg/Float32 steering, e.g. the simulator's expert. */
  readonly labelTopic?: string;
  readonly split: { readonly testFraction: number; readonly seed: number };
  readonly which: 'train' | 'test';
  /** A frame with no label within this many milliseconds of it is left out. */
  readonly maxLagMs?: number;
  /** Bytes of preprocessed frames kept in memory between reads. */
  readonly cacheBytes?: number;
  readonly log?: (line: string) => void;
}

export interface DatasetStats {
  /** Frames on the frame topic, in every file, before the split. */
  readonly frames: number;
  readonly labels: number;
  /** Decodable frames with no label within maxLagMs. */
  readonly unlabelled: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
  /** Samples in this split. */
  readonly samples: number;
}

export interface Sample {
  /** The preprocessed frame (a fresh array per sample). */
  readonly x: Float32Array;
  readonly y: number;
  readonly file: string;
  /** Position of the frame among all frames of its file: what the split hashes. */
  readonly frameIndex: number;
  readonly logTimeNs: bigint;
}

export const DEFAULT_FRAME_TOPIC = '/camera/camera/color/image_raw';
export const DEFAULT_LABEL_TOPIC = '/expert/steering';
const DEFAULT_MAX_LAG_MS = 50;
const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

interface FrameEntry {
  readonly index: number;
  readonly logTime: bigint;
  readonly ordinal: number;
}

/** Per sample: where its frame is and what its label is. A few numbers each, never pixels. */
interface SampleIndex {
  readonly recording: number[];
  readonly logTime: bigint[];
  readonly ordinal: number[];
  readonly frameIndex: number[];
  readonly label: number[];
}

function check(options: McapDatasetOptions): void {
  const { testFraction, seed } = options.split;
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new RangeError(`split.testFraction must be in [0, 1], got ${testFraction}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`split.seed must be an integer, got ${seed}`);
  const lag = options.maxLagMs ?? DEFAULT_MAX_LAG_MS;
  if (!(lag >= 0)) throw new RangeError(`maxLagMs must be >= 0, got ${lag}`);
}

export class McapDataset implements TrainingDataset {
  readonly size: number;
  readonly inputSpec: InputSpec;
  readonly #recordings: readonly Recording[];
  readonly #index: SampleIndex;
  readonly #stats: DatasetStats;
  readonly #skipped: Record<SkipReason, number>;
  readonly #preprocessor: Preprocessor;
  readonly #cache: FrameCache;
  readonly #log: (line: string) => void;
  /** Samples found unreadable only at read time (a JPEG that does not decode). */
  readonly #bad = new Set<number>();

  private constructor(
    recordings: readonly Recording[],
    index: SampleIndex,
    stats: DatasetStats,
    skipped: Record<SkipReason, number>,
    preprocessor: Preprocessor,
    options: McapDatasetOptions,
  ) {
    this.#recordings = recordings;
    this.#index = index;
    this.#stats = stats;
    this.#skipped = skipped;
    this.#preprocessor = preprocessor;
    this.#cache = new FrameCache(options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    this.#log = options.log ?? console.error;
    this.size = index.label.length;
    this.inputSpec = options.inputSpec;
  }

  /**
   * Opens every file and indexes its samples. A file that is not a complete indexed MCAP, or
   * lacks the topics, rejects with DatasetFileError; bad messages inside a file are skipped.
   */
  static async open(files: readonly string[], options: McapDatasetOptions): Promise<McapDataset> {
    check(options);
    const preprocessor = createPreprocessor(options.inputSpec);
    const log = options.log ?? console.error;
    const topics = {
      frame: options.frameTopic ?? DEFAULT_FRAME_TOPIC,
      label: options.labelTopic ?? DEFAULT_LABEL_TOPIC,
    };
    const maxLagNs = BigInt(Math.round((options.maxLagMs ?? DEFAULT_MAX_LAG_MS) * 1e6));
    const index: SampleIndex = { recording: [], logTime: [], ordinal: [], frameIndex: [], label: [] };
    const skipped: Record<SkipReason, number> = { 'bad-cdr': 0, 'bad-frame': 0, 'bad-label': 0 };
    const skip = (error: DatasetMessageError): void => {
      skipped[error.reason] += 1;
      log(`dataset: skipped: ${error.message}`);
    };
    let frames = 0;
    let labels = 0;
    let unlabelled = 0;
    const recordings: Recording[] = [];
    try {
      for (const file of files) {
        const recording = await Recording.open(file, topics);
        recordings.push(recording);
        const scan = await scanRecording(recording, preprocessor, skip);
        frames += scan.frameCount;
        labels += scan.labelTimes.length;
        const pairs = pairNearest(
          scan.frames.map((f) => f.logTime),
          scan.labelTimes,
          maxLagNs,
        );
        scan.frames.forEach((f, i) => {
          const label = pairs[i]!;
          if (label < 0) {
            unlabelled += 1;
            return;
          }
          const isTest = inTestSplit(options.split.seed, recording.name, f.index, options.split.testFraction);
          if (isTest !== (options.which === 'test')) return;
          index.recording.push(recordings.length - 1);
          index.logTime.push(f.logTime);
          index.ordinal.push(f.ordinal);
          index.frameIndex.push(f.index);
          index.label.push(scan.labelValues[label]!);
        });
      }
    } catch (error) {
      await Promise.all(recordings.map((r) => r.close().catch(() => undefined)));
      throw error;
    }
    const stats = { frames, labels, unlabelled, skipped, samples: index.label.length };
    return new McapDataset(recordings, index, stats, skipped, preprocessor, options);
  }

  /**
   * Fills x (n x outputLength) and y (n). Cached frames are copied; the rest are fetched grouped
   * by chunk, one pass per chunk. A frame found unreadable now (a JPEG that does not decode) is
   * replaced by the next good sample, so the batch stays full and training carries on.
   */
  async read(indices: readonly number[], x: Float32Array, y: Float32Array): Promise<void> {
    const n = this.#preprocessor.outputLength;
    if (x.length < indices.length * n || y.length < indices.length) {
      throw new RangeError(
        `read of ${indices.length} samples needs x of ${indices.length * n} and y of ${indices.length}`,
      );
    }
    const slot = (k: number): Float32Array => x.subarray(k * n, (k + 1) * n);
    const groups = new Map<string, Map<number, number[]>>();
    const retry: number[] = [];
    indices.forEach((sample, k) => {
      if (!Number.isInteger(sample) || sample < 0 || sample >= this.size) {
        throw new RangeError(`sample ${sample} is outside the dataset (size ${this.size})`);
      }
      const cached = this.#bad.has(sample) ? undefined : this.#cache.get(sample);
      if (cached !== undefined) {
        slot(k).set(cached);
        y[k] = this.#index.label[sample]!;
      } else if (this.#bad.has(sample)) {
        retry.push(k);
      } else {
        const r = this.#index.recording[sample]!;
        const chunk = this.#recordings[r]!.chunkOf(this.#index.logTime[sample]!);
        const key = chunk < 0 ? `${r}:sample ${sample}` : `${r}:${chunk}`;
        const group = groups.get(key) ?? new Map<number, number[]>();
        group.set(sample, [...(group.get(sample) ?? []), k]);
        groups.set(key, group);
      }
    });
    for (const group of groups.values()) {
      const samples = [...group.keys()];
      const recording = this.#recordings[this.#index.recording[samples[0]!]!]!;
      const refs = samples.map((s) => ({
        logTime: this.#index.logTime[s]!,
        ordinal: this.#index.ordinal[s]!,
      }));
      const found = await recording.visitFrames(refs, async (i, data) => {
        const sample = samples[i]!;
        const [first, ...rest] = group.get(sample)!;
        const out = slot(first!);
        if (!(await this.#decodeInto(sample, data, out))) {
          retry.push(first!, ...rest);
          return;
        }
        this.#cache.put(sample, out);
        for (const k of [first!, ...rest]) {
          if (k !== first) slot(k).set(out);
          y[k] = this.#index.label[sample]!;
        }
      });
      const lost = found.indexOf(false);
      if (lost >= 0) throw this.#vanished(samples[lost]!);
    }
    for (const k of retry) y[k] = this.#index.label[await this.#fill(indices[k]!, slot(k))]!;
  }

  /** Every sample of this split in file and time order, one chunk in memory at a time. */
  async *samples(): AsyncGenerator<Sample> {
    let next = 0;
    for (let r = 0; r < this.#recordings.length; r++) {
      const recording = this.#recordings[r]!;
      if (this.#index.recording[next] !== r) continue;
      let frameIndex = -1;
      for await (const m of recording.messages([recording.frameTopic])) {
        frameIndex += 1;
        if (next >= this.size || this.#index.recording[next] !== r) break;
        if (this.#index.frameIndex[next] !== frameIndex) continue;
        const sample = next++;
        const x = new Float32Array(this.#preprocessor.outputLength);
        if (this.#bad.has(sample) || !(await this.#decodeInto(sample, m.data, x))) continue;
        yield {
          x,
          y: this.#index.label[sample]!,
          file: recording.file,
          frameIndex,
          logTimeNs: m.logTime,
        };
      }
    }
  }

  stats(): DatasetStats {
    return { ...this.#stats, skipped: { ...this.#skipped } };
  }

  cacheStats(): CacheStats {
    return this.#cache.stats();
  }

  async close(): Promise<void> {
    await Promise.all(this.#recordings.map((r) => r.close()));
  }

  /** Fills `out` from the first good sample at or after `requested`; returns the one used. */
  async #fill(requested: number, out: Float32Array): Promise<number> {
    for (let step = 0; step < this.size; step++) {
      const sample = (requested + step) % this.size;
      if (this.#bad.has(sample)) continue;
      const cached = this.#cache.get(sample);
      if (cached !== undefined) {
        out.set(cached);
        return sample;
      }
      const recording = this.#recordings[this.#index.recording[sample]!]!;
      const ref = { logTime: this.#index.logTime[sample]!, ordinal: this.#index.ordinal[sample]! };
      let good = false;
      const [found] = await recording.visitFrames([ref], async (_i, data) => {
        good = await this.#decodeInto(sample, data, out);
      });
      if (found !== true) throw this.#vanished(sample);
      if (good) {
        this.#cache.put(sample, out);
        return sample;
      }
    }
    throw new DatasetFileError(
      `no readable frame left in ${this.#recordings.map((r) => r.file).join(', ')}`,
      '',
    );
  }

  #vanished(sample: number): DatasetFileError {
    const file = this.#recordings[this.#index.recording[sample]!]!.file;
    return new DatasetFileError(
      `${file} no longer holds the frame it was indexed with (replaced while open?)`,
      file,
    );
  }

  /** Decodes and preprocesses one frame; a failure marks the sample bad, counts and logs it. */
  async #decodeInto(sample: number, data: Uint8Array, out: Float32Array): Promise<boolean> {
    const recording = this.#recordings[this.#index.recording[sample]!]!;
    const logTime = this.#index.logTime[sample]!;
    const error = await preprocessFrame(recording, data, this.#preprocessor, out, logTime);
    if (error === undefined) return true;
    this.#bad.add(sample);
    this.#skipped[error.reason] += 1;
    this.#log(`dataset: skipped: ${error.message}`);
    return false;
  }
}

interface Scan {
  readonly frameCount: number;
  /** Frames that decoded, in log order. */
  readonly frames: FrameEntry[];
  readonly labelTimes: bigint[];
  readonly labelValues: number[];
}

/**
 * One pass over a file. Raw frames are decoded and preprocessed once here so that a corrupt
 * frame is left out of the index rather than discovered mid-epoch; compressed frames are only
 * CDR-checked, because decoding every JPEG twice would double the cost of opening.
 */
async function scanRecording(
  recording: Recording,
  preprocessor: Preprocessor,
  skip: (error: DatasetMessageError) => void,
): Promise<Scan> {
  const frames: FrameEntry[] = [];
  const labelTimes: bigint[] = [];
  const labelValues: number[] = [];
  const scratch = new Float32Array(preprocessor.outputLength);
  let frameCount = 0;
  let lastTime = -1n;
  let sameTime = 0;
  for await (const m of recording.messages()) {
    if (m.topic === recording.labelTopic) {
      let value: number;
      try {
        value = recording.decodeLabel(m.data);
      } catch (cause) {
        skip(
          messageError(
            'bad-cdr',
            recording,
            recording.labelTopic,
            m.logTime,
            'does not decode as Float32',
            cause,
          ),
        );
        continue;
      }
      if (!Number.isFinite(value)) {
        skip(messageError('bad-label', recording, recording.labelTopic, m.logTime, `has label ${value}`));
        continue;
      }
      labelTimes.push(m.logTime);
      labelValues.push(value);
      continue;
    }
    const index = frameCount++;
    sameTime = m.logTime === lastTime ? sameTime + 1 : 0;
    lastTime = m.logTime;
    const error = await preprocessFrame(recording, m.data, preprocessor, scratch, m.logTime, false);
    if (error !== undefined) {
      skip(error);
      continue;
    }
    frames.push({ index, logTime: m.logTime, ordinal: sameTime });
  }
  return { frameCount, frames, labelTimes, labelValues };
}

function messageError(
  reason: SkipReason,
  recording: Recording,
  topic: string,
  logTime: bigint,
  what: string,
  cause?: unknown,
): DatasetMessageError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new DatasetMessageError(
    reason,
    `${recording.file}: ${topic} message at ${logTime} ns ${what}${detail}`,
    recording.file,
    topic,
    logTime,
    cause === undefined ? undefined : { cause },
  );
}

/** Returns the typed reason a frame must be skipped, or undefined once `out` holds it. */
async function preprocessFrame(
  recording: Recording,
  data: Uint8Array,
  preprocessor: Preprocessor,
  out: Float32Array,
  logTime: bigint,
  decodeCompressed = true,
): Promise<DatasetMessageError | undefined> {
  const topic = recording.frameTopic;
  let frame;
  try {
    frame = recording.decodeFrame(data);
  } catch (cause) {
    return messageError('bad-cdr', recording, topic, logTime, 'does not decode as an image', cause);
  }
  try {
    if (frame.kind === 'raw') preprocessor.fromRaw(frame.image, out);
    else if (decodeCompressed) await preprocessor.fromCompressed(frame.image, out);
  } catch (cause) {
    if (!(cause instanceof FrameError)) throw cause;
    return messageError('bad-frame', recording, topic, logTime, `is rejected (${cause.reason})`, cause);
  }
  return undefined;
}
