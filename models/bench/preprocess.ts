// Per-frame cost of camera preprocessing: 640x480 frames -> FADNET_INPUT_SPEC (320x240, crop
// 200x200), single thread. Run directly: `node --import tsx models/bench/preprocess.ts [--frames N]`.
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { numberArg, parseCommandArgs, percentile } from '../../common/index.ts';
import { FADNET_INPUT_SPEC } from '../src/input-spec.ts';
import type { CompressedImageData, Preprocessor, RawImage } from '../src/preprocess/index.ts';
import { createPreprocessor } from '../src/preprocess/index.ts';

export interface BenchResult {
  p50_ms: number;
  p99_ms: number;
}

const WIDTH = 640;
const HEIGHT = 480;
/** Distinct frames cycled through, so the source is not always hot in cache as one frame would be. */
const DISTINCT_FRAMES = 4;

async function measure(frames: number, run: (i: number) => unknown): Promise<BenchResult> {
  const warmup = Math.max(50, Math.floor(frames / 10));
  for (let i = 0; i < warmup; i++) await run(i);
  const times = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    const t0 = performance.now();
    await run(i);
    times[i] = performance.now() - t0;
  }
  times.sort();
  return { p50_ms: percentile(times, 0.5), p99_ms: percentile(times, 0.99) };
}

/** A camera-like scene: smooth gradients with some texture, different per frame. */
function syntheticFrame(seed: number, bytesPerPixel: number, width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * bytesPerPixel);
  let state = (seed * 2654435761) >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (state * 1664525 + 1013904223) >>> 0;
      const noise = state >>> 28;
      const p = (y * width + x) * bytesPerPixel;
      for (let c = 0; c < bytesPerPixel; c++) {
        data[p + c] = ((x * (c + 1) + y * (3 - c) + seed * 17) >> 2) + noise;
      }
    }
  }
  return data;
}

function rawFrames(encoding: string, bytesPerPixel: number, width = WIDTH, height = HEIGHT): RawImage[] {
  return Array.from({ length: DISTINCT_FRAMES }, (_, seed) => ({
    width,
    height,
    encoding,
    is_bigendian: 0,
    step: width * bytesPerPixel,
    data: syntheticFrame(seed, bytesPerPixel, width, height),
  }));
}

function benchRaw(pre: Preprocessor, frames: RawImage[], count: number): Promise<BenchResult> {
  const out = new Float32Array(pre.outputLength);
  return measure(count, (i) => pre.fromRaw(frames[i % frames.length]!, out));
}

/** 640x480 rgb8 frames through `createPreprocessor(FADNET_INPUT_SPEC).fromRaw`. */
export async function benchPreprocess(opts: { frames: number }): Promise<BenchResult> {
  return benchRaw(createPreprocessor(FADNET_INPUT_SPEC), rawFrames('rgb8', 3), opts.frames);
}

async function benchJpeg(pre: Preprocessor, count: number): Promise<BenchResult> {
  const frames: CompressedImageData[] = [];
  for (const raw of rawFrames('rgb8', 3)) {
    const jpeg = await sharp(raw.data, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    frames.push({ format: 'rgb8; jpeg compressed bgr8', data: jpeg });
  }
  const out = new Float32Array(pre.outputLength);
  return measure(count, (i) => pre.fromCompressed(frames[i % frames.length]!, out));
}

/** Every case, as printed lines; also the body of a `bench preprocess` CLI subcommand. */
export async function benchPreprocessCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    json: { type: 'boolean', default: false },
    frames: { type: 'string', default: '2000' },
  });
  if (parsed.help) return 0; // the dispatcher prints the bench's usage
  const frames = numberArg('--frames', parsed.values.frames, { integer: true, min: 1 });
  const pre = createPreprocessor(FADNET_INPUT_SPEC);
  const cases: [string, () => Promise<BenchResult>][] = [
    ['rgb8', () => benchPreprocess({ frames })],
    ['bgr8', () => benchRaw(pre, rawFrames('bgr8', 3), frames)],
    ['yuyv', () => benchRaw(pre, rawFrames('yuyv', 2), frames)],
    ['mono8', () => benchRaw(pre, rawFrames('mono8', 1), frames)],
    ['jpeg', () => benchJpeg(pre, Math.max(1, Math.floor(frames / 10)))],
    // Not 640x480: these take the general bilinear path instead of the 2x2 mean.
    ['rgb8 1280x720', () => benchRaw(pre, rawFrames('rgb8', 3, 1280, 720), frames)],
    ['rgb8 424x240', () => benchRaw(pre, rawFrames('rgb8', 3, 424, 240), frames)],
  ];
  const json = parsed.values.json;
  if (!json)
    console.log(`preprocess ${WIDTH}x${HEIGHT} -> FADNET_INPUT_SPEC, single thread, ${frames} frames`);
  const results: Record<string, { p50_ms: number; p99_ms: number }> = {};
  for (const [name, run] of cases) {
    const { p50_ms, p99_ms } = await run();
    results[name] = { p50_ms, p99_ms };
    if (!json) console.log(`${name.padEnd(14)} p50 ${p50_ms.toFixed(3)} ms  p99 ${p99_ms.toFixed(3)} ms`);
  }
  if (json) console.log(JSON.stringify({ frames, ...results }));
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await benchPreprocessCommand(process.argv.slice(2));
}
