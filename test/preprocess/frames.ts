// Synthetic camera frames for the preprocessing tests.
import type { RawImage } from '../../models/src/preprocess/index.ts';
import { mulberry32 } from '../../common/index.ts';

export const BYTES_PER_PIXEL: Readonly<Record<string, number>> = {
  rgb8: 3,
  bgr8: 3,
  rgba8: 4,
  bgra8: 4,
  mono8: 1,
  mono16: 2,
  yuv422: 2,
  uyvy: 2,
  yuv422_yuy2: 2,
  yuyv: 2,
};

export type Pattern = 'random' | 'smooth';

export const rng = mulberry32; // seeded: every run sees the same data

/** A slowly varying byte value per position and byte index, different per byte index. */
function smoothByte(x: number, y: number, k: number, width: number, height: number): number {
  const u = x / width;
  const v = y / height;
  const value = 127.5 + 100 * Math.sin(2.1 * u + 1.3 * v + k) + 25 * Math.cos(3.7 * v - 1.9 * u * k);
  return Math.max(0, Math.min(255, Math.round(value)));
}

export interface FrameOptions {
  pattern?: Pattern;
  seed?: number;
  /** Extra bytes at the end of each row (filled with junk that must never be read). */
  padding?: number;
  bigEndian?: boolean;
}

/**
 * A frame of any encoding with the given bytes; every byte, including chroma, alpha and both
 * halves of mono16 samples, is drawn from the pattern.
 */
export function makeFrame(
  encoding: string,
  width: number,
  height: number,
  opts: FrameOptions = {},
): RawImage {
  const { pattern = 'random', seed = 1, padding = 0, bigEndian = false } = opts;
  const bpp = BYTES_PER_PIXEL[encoding];
  if (bpp === undefined) throw new Error(`no test frames for ${encoding}`);
  const step = width * bpp + padding;
  const data = new Uint8Array(step * height);
  const next = rng(seed);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < step; i++) {
      const x = Math.floor(i / bpp);
      const inRow = i < width * bpp;
      data[y * step + i] = !inRow
        ? 0xee
        : pattern === 'random'
          ? Math.floor(next() * 256)
          : smoothByte(x, y, i % bpp, width, height);
    }
  }
  return { width, height, encoding, is_bigendian: bigEndian ? 1 : 0, step, data };
}

/** The same pixels at a byte offset that is not a multiple of 4 (as a pooled Buffer might be). */
export function misaligned(img: RawImage): RawImage {
  const backing = new Uint8Array(img.data.length + 1);
  backing.set(img.data, 1);
  return { ...img, data: backing.subarray(1) };
}
