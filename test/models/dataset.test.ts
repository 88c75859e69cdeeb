// The MCAP dataset on real recordings written by the recorder: pairing, the seeded split,
// preprocessing identical to the inference path, the cache budget, and damaged data.
import { copyFile, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import { McapIndexedReader, McapWriter } from '@mcap/core';
import { FileHandleReadable, FileHandleWritable } from '@mcap/nodejs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DatasetFileError,
  McapDataset,
  pairNearest,
  splitValue,
  type McapDatasetOptions,
} from '../../models/src/dataset/index.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import { createPreprocessor } from '../../models/src/preprocess/index.ts';
import type { Image } from '../../nodes/runtime/index.ts';
import { McapRecorder, ros2msgDefinition } from '../../nodes/record/index.ts';

const CAMERA = '/camera/camera/color/image_raw';
const EXPERT = '/expert/steering';
const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;
const VALUES = 200 * 200;
const CHUNKS = 4;
const preprocessor = createPreprocessor(FADNET_INPUT_SPEC);

function frame(i: number, width = 80, height = 60): Image {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < data.length; p++) data[p] = (p * 13 + i * 71) & 0xff;
  return {
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'camera' },
    height,
    width,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: width * 3,
    data,
  };
}

const expected = (i: number): Float32Array => preprocessor.fromRaw(frame(i));
const same = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

let dir: string;
const logs: string[] = [];
const options = (over: Partial<McapDatasetOptions> = {}): McapDatasetOptions => ({
  inputSpec: FADNET_INPUT_SPEC,
  split: { testFraction: 0, seed: 1 },
  which: 'train',
  log: (line) => logs.push(line),
  ...over,
});

/**
 * Ten frames 100 ms apart; the expert answers 10 ms after each with steering i/10, except
 * that frame 4 gets no answer and frame 7's answer comes 60 ms late (past a 50 ms lag).
 */
async function writeRun(file: string, chunkBytes?: number): Promise<void> {
  const rec = await McapRecorder.open(file, chunkBytes === undefined ? {} : { chunkBytes });
  for (let i = 0; i < 10; i++) {
    const t = T0 + BigInt(i) * 100n * MS;
    void rec.write(CAMERA, 'sensor_msgs/msg/Image', frame(i), t);
    if (i !== 4)
      void rec.write(EXPERT, 'std_msgs/msg/Float32', { data: i / 10 }, t + (i === 7 ? 60n : 10n) * MS);
  }
  await rec.close();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-dataset-'));
  await writeRun(path.join(dir, 'world-a.mcap'));
  await writeRun(path.join(dir, 'world-b.mcap'));
  // A chunk closes once past 30 kB: three 80x60 frames (14 KiB each), so a batch spans chunks.
  await writeRun(path.join(dir, 'small-chunks.mcap'), 30_000);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pairNearest', () => {
  it('takes the nearest label within the lag, the earlier one on a tie', () => {
    const pairs = pairNearest([100n, 200n, 300n, 400n], [90n, 190n, 210n, 330n, 470n], 50n);
    expect([...pairs]).toEqual([0, 1, 3, -1]);
    expect([...pairNearest([5n], [], 10n)]).toEqual([-1]);
  });
});

describe('McapDataset', () => {
  it('pairs frames with the expert steering and reads them preprocessed as inference would', async () => {
    const ds = await McapDataset.open([path.join(dir, 'world-a.mcap')], options());
    expect(ds.size).toBe(8);
    expect(ds.stats()).toEqual({
      frames: 10,
      labels: 9,
      unlabelled: 2,
      skipped: { 'bad-cdr': 0, 'bad-frame': 0, 'bad-label': 0 },
      samples: 8,
    });
    const x = new Float32Array(3 * VALUES);
    const y = new Float32Array(3);
    await ds.read([7, 0, 4], x, y);
    // Samples are frames 0-3, 5, 6, 8, 9 (4 has no label, 7's is 60 ms late).
    expect([...y]).toEqual([Math.fround(0.9), 0, Math.fround(0.5)]);
    expect(same(x.subarray(0, VALUES), expected(9))).toBe(true);
    expect(same(x.subarray(VALUES, 2 * VALUES), expected(0))).toBe(true);
    expect(same(x.subarray(2 * VALUES), expected(5))).toBe(true);

    const streamed = [];
    for await (const s of ds.samples()) streamed.push(s);
    expect(streamed.map((s) => s.frameIndex)).toEqual([0, 1, 2, 3, 5, 6, 8, 9]);
    expect(streamed.map((s) => s.logTimeNs - T0)).toEqual(
      [0n, 1n, 2n, 3n, 5n, 6n, 8n, 9n].map((i) => i * 100n * MS),
    );
    expect(streamed.map((s) => s.y)).toEqual([0, 0.1, 0.2, 0.3, 0.5, 0.6, 0.8, 0.9].map(Math.fround));
    expect(streamed.every((s) => same(s.x, expected(s.frameIndex)))).toBe(true);
    await ds.close();
  });

  it('reads batches spanning chunks, with repeated samples, the same as one at a time', async () => {
    const file = path.join(dir, 'small-chunks.mcap');
    const handle = await open(file, 'r');
    const chunks = (await McapIndexedReader.Initialize({ readable: new FileHandleReadable(handle) }))
      .chunkIndexes;
    await handle.close();
    expect(chunks.length).toBe(CHUNKS);
    const ds = await McapDataset.open([file], options({ cacheBytes: 0 }));
    const batch = [5, 0, 5, 3, 7, 1];
    const frameOf = [0, 1, 2, 3, 5, 6, 8, 9];
    const x = new Float32Array(batch.length * VALUES);
    const y = new Float32Array(batch.length);
    await ds.read(batch, x, y);
    expect([...y]).toEqual(batch.map((s) => Math.fround(frameOf[s]! / 10)));
    batch.forEach((s, k) => {
      expect(same(x.subarray(k * VALUES, (k + 1) * VALUES), expected(frameOf[s]!)), `slot ${k}`).toBe(true);
    });
    await expect(ds.read([8], x, y)).rejects.toThrow(
      new RangeError('sample 8 is outside the dataset (size 8)'),
    );
    await ds.close();
  });

  it('splits by a seeded hash of (file, frame): disjoint, complete, stable, independent of other files', async () => {
    const files = [path.join(dir, 'world-a.mcap'), path.join(dir, 'world-b.mcap')];
    const members = async (which: 'train' | 'test', seed: number, list = files): Promise<string[]> => {
      const ds = await McapDataset.open(list, options({ split: { testFraction: 0.3, seed }, which }));
      const out = [];
      for await (const s of ds.samples()) out.push(`${path.basename(s.file)}#${s.frameIndex}`);
      await ds.close();
      return out;
    };
    const train = await members('train', 7);
    const test = await members('test', 7);
    expect(train.filter((k) => test.includes(k))).toEqual([]);
    expect(train.length + test.length).toBe(16);
    expect(test.length).toBeGreaterThan(0);
    expect(await members('test', 7)).toEqual(test);
    expect((await members('test', 7, [files[1]!])).every((k) => test.includes(k))).toBe(true);
    expect(await members('test', 8)).not.toEqual(test);
    // The split fraction holds over many frames.
    let inTest = 0;
    for (let i = 0; i < 20_000; i++) if (splitValue(3, 'run.mcap', i) < 0.2) inTest += 1;
    expect(Math.abs(inTest / 20_000 - 0.2)).toBeLessThan(0.01);
  });

  it('keeps preprocessed frames within the cache byte budget, least recently used out first', async () => {
    const frameBytes = VALUES * 4;
    const ds = await McapDataset.open(
      [path.join(dir, 'world-a.mcap')],
      options({ cacheBytes: 3 * frameBytes + 1 }),
    );
    const x = new Float32Array(8 * VALUES);
    const y = new Float32Array(8);
    await ds.read([0, 1, 2, 3, 4, 5, 6, 7], x, y);
    expect(ds.cacheStats()).toEqual({
      budgetBytes: 3 * frameBytes + 1,
      bytes: 3 * frameBytes,
      entries: 3,
      hits: 0,
      misses: 8,
    });
    await ds.read([7, 6, 5], x, y);
    await ds.read([0], x, y);
    expect(ds.cacheStats()).toMatchObject({ bytes: 3 * frameBytes, entries: 3, hits: 3, misses: 9 });
    expect(same(x.subarray(0, VALUES), expected(0))).toBe(true);
    await ds.close();
  });

  it('skips and counts bad CDR, rejected frames and non-finite labels, logging each', async () => {
    const file = path.join(dir, 'damaged.mcap');
    const handle = await open(file, 'w');
    const writer = new McapWriter({ writable: new FileHandleWritable(handle) });
    await writer.start({ profile: 'ros2', library: 'test' });
    const channel = async (
      topic: string,
      type: 'sensor_msgs/msg/Image' | 'std_msgs/msg/Float32',
    ): Promise<number> => {
      const def = ros2msgDefinition(type);
      const schemaId = await writer.registerSchema({
        name: type,
        encoding: 'ros2msg',
        data: new TextEncoder().encode(def),
      });
      return writer.registerChannel({ topic, schemaId, messageEncoding: 'cdr', metadata: new Map() });
    };
    const cam = await channel(CAMERA, 'sensor_msgs/msg/Image');
    const exp = await channel(EXPERT, 'std_msgs/msg/Float32');
    const imageCdr = new MessageWriter(parse(ros2msgDefinition('sensor_msgs/msg/Image'), { ros2: true }));
    const floatCdr = new MessageWriter(parse('float32 data', { ros2: true }));
    const frames = [
      imageCdr.writeMessage(frame(0)),
      imageCdr.writeMessage(frame(1)).subarray(0, 40), // cut inside the pixel array
      imageCdr.writeMessage({ ...frame(2), step: 10 }), // decodes, but step < width * 3
      imageCdr.writeMessage(frame(3)),
    ];
    const labels = [
      floatCdr.writeMessage({ data: 0.5 }),
      new Uint8Array([0, 1]),
      floatCdr.writeMessage({ data: NaN }),
      floatCdr.writeMessage({ data: -0.5 }),
    ];
    for (let i = 0; i < 4; i++) {
      const t = T0 + BigInt(i) * 100n * MS;
      await writer.addMessage({ channelId: cam, sequence: i, logTime: t, publishTime: t, data: frames[i]! });
      await writer.addMessage({ channelId: exp, sequence: i, logTime: t, publishTime: t, data: labels[i]! });
    }
    await writer.end();
    await handle.close();

    logs.length = 0;
    const ds = await McapDataset.open([file], options());
    expect(ds.stats()).toEqual({
      frames: 4,
      labels: 2,
      unlabelled: 0,
      skipped: { 'bad-cdr': 2, 'bad-frame': 1, 'bad-label': 1 },
      samples: 2,
    });
    expect(logs).toHaveLength(4);
    expect(logs).toContain(
      `dataset: skipped: ${file}: ${CAMERA} message at ${T0 + 200n * MS} ns is rejected (step-too-small): frame 80x60 rgb8 has step 10, expected at least 240 (80 px * 3 bytes)`,
    );
    expect(logs).toContain(
      `dataset: skipped: ${file}: ${EXPERT} message at ${T0 + 200n * MS} ns has label NaN`,
    );
    const x = new Float32Array(2 * VALUES);
    const y = new Float32Array(2);
    await ds.read([0, 1], x, y);
    expect([...y]).toEqual([0.5, -0.5]);
    expect(same(x.subarray(VALUES), expected(3))).toBe(true);
    await ds.close();
  });

  it('replaces a compressed frame that fails to decode at read time with the next good sample', async () => {
    const file = path.join(dir, 'jpeg.mcap');
    const rec = await McapRecorder.open(file);
    const raw = frame(5);
    const jpeg = await sharp(Buffer.from(raw.data), { raw: { width: 80, height: 60, channels: 3 } })
      .jpeg()
      .toBuffer();
    const header = raw.header;
    const images = [new Uint8Array(jpeg), new Uint8Array([0xff, 0xd8, 1, 2, 3]), new Uint8Array(jpeg)];
    images.forEach((data, i) => {
      const t = T0 + BigInt(i) * 100n * MS;
      void rec.write(CAMERA, 'sensor_msgs/msg/CompressedImage', { header, format: 'jpeg', data }, t);
      void rec.write(EXPERT, 'std_msgs/msg/Float32', { data: i }, t);
    });
    await rec.close();
    logs.length = 0;
    const ds = await McapDataset.open([file], options());
    expect(ds.size).toBe(3);
    const x = new Float32Array(2 * VALUES);
    const y = new Float32Array(2);
    await ds.read([1, 0], x, y);
    expect([...y]).toEqual([2, 0]);
    const want = await preprocessor.fromCompressed({ format: 'jpeg', data: new Uint8Array(jpeg) });
    expect(same(x.subarray(0, VALUES), want)).toBe(true);
    expect(ds.stats().skipped['bad-frame']).toBe(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(
      /^dataset: skipped: .*jpeg\.mcap: \/camera\/camera\/color\/image_raw message at \d+ ns is rejected \(undecodable\)/,
    );
    await ds.close();
  });

  it('rejects a truncated recording and one without the topics with a DatasetFileError naming the file', async () => {
    const cut = path.join(dir, 'cut.mcap');
    await copyFile(path.join(dir, 'world-a.mcap'), cut);
    const bytes = (await readFile(cut)).length;
    await truncate(cut, Math.floor(bytes / 2));
    const error: unknown = await McapDataset.open([cut], options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetFileError);
    expect((error as DatasetFileError).file).toBe(cut);
    expect((error as DatasetFileError).message).toMatch(
      new RegExp(
        `^${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a complete indexed MCAP file \\(.+\\); a recording cut off before close has no summary$`,
      ),
    );

    const empty = path.join(dir, 'empty.mcap');
    await writeFile(empty, '');
    await expect(McapDataset.open([empty], options())).rejects.toBeInstanceOf(DatasetFileError);

    await expect(
      McapDataset.open([path.join(dir, 'world-a.mcap')], options({ labelTopic: '/nope' })),
    ).rejects.toThrow(`${path.join(dir, 'world-a.mcap')} has no topic /nope (topics: ${CAMERA}, ${EXPERT})`);
  });
});
