import type { LinearGreyMap } from './colour.ts';
import type { PairGrid, ResamplePlan } from './plan.ts';
import { simdPairMean } from './simd/pair-mean-simd.ts';

/**
 * The 2x2-mean path (see `PairGrid`) for layouts whose grey is linear in their bytes: sum the
 * four pixels' bytes per byte position as integers and multiply once per output pixel.
 *
 * For the common 2x shrink of a word-aligned frame the sums are done four bytes at a time
 * (SWAR): a 32-bit word split into two 16-bit lanes with 0x00ff00ff holds two byte sums without
 * overflow (at most 4 * 255 per lane). That reads a quarter of the elements the byte loop does
 * and is what brings a 640x480 rgb8 frame well under half a millisecond.
 *
 * Output is NCHW for one grey channel: out[y * outWidth + x] = grey * scale + offset.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const M = 0x00ff00ff;

/** A 32-bit view of the last frame, kept because a driver may hand over the same buffer again. */
export interface WordView {
  words: Uint32Array;
}

function wordsOf(data: Uint8Array, view: WordView): Uint32Array {
  const words = view.words;
  const length = data.byteLength >> 2;
  if (words.buffer === data.buffer && words.byteOffset === data.byteOffset && words.length === length) {
    return words;
  }
  view.words = new Uint32Array(data.buffer, data.byteOffset, length);
  return view.words;
}

export function pairMean(
  data: Uint8Array,
  step: number,
  map: LinearGreyMap,
  grid: PairGrid,
  plan: ResamplePlan,
  scale: number,
  offset: number,
  out: Float32Array,
  /** Off only to compare the SIMD kernel with the word loops (tests). */
  useSimd = true,
): void {
  const bpp = map.bytesPerPixel;
  const k = 0.25 * scale;
  const c = map.coeffs;
  const c0 = (c[0] ?? 0) * k;
  const c1 = (c[1] ?? 0) * k;
  const c2 = (c[2] ?? 0) * k;
  const c3 = (c[3] ?? 0) * k;
  const w = plan.outWidth;
  const h = plan.outHeight;
  // Colour frames (the camera's usual formats) go to the SIMD kernel when it applies.
  if (
    useSimd &&
    grid.strideX === 2 &&
    (bpp === 3 || bpp === 4) &&
    simdPairMean({
      data,
      step,
      bpp,
      x0: grid.x0,
      y0: grid.y0,
      strideY: grid.strideY,
      w,
      h,
      c: [c0, c1, c2, c3],
      offset,
      out,
    })
  ) {
    return;
  }
  const aligned =
    LITTLE_ENDIAN &&
    grid.strideX === 2 &&
    data.byteOffset % 4 === 0 &&
    step % 4 === 0 &&
    (grid.x0 * bpp) % 4 === 0;
  const { x0, y0, strideX, strideY } = grid;
  if (!aligned) {
    pairMeanBytes(data, step, bpp, x0, y0, strideX, strideY, w, h, offset, out, c0, c1, c2, c3, w, 0);
    return;
  }
  const words = wordsOf(data, plan.wordView);
  const rowWords = step >> 2;
  const first = (y0 * step + x0 * bpp) >> 2;
  const dy = strideY * rowWords;
  switch (bpp) {
    case 1:
      swar1(words, first, dy, rowWords, w, h, offset, out, c0);
      break;
    case 2:
      swar2(words, first, dy, rowWords, w, h, offset, out, c0, c1);
      break;
    case 3:
      swar3(words, first, dy, rowWords, w, h, offset, out, c0, c1, c2);
      break;
    default:
      swar4(words, first, dy, rowWords, w, h, offset, out, c0, c1, c2, c3);
  }
  // The word loops cover output columns in pairs for 1 and 3 bytes per pixel; an odd last one
  // is done byte by byte.
  if ((bpp === 1 || bpp === 3) && w % 2 === 1) {
    const x = x0 + (w - 1) * 2;
    pairMeanBytes(data, step, bpp, x, y0, 2, strideY, 1, h, offset, out, c0, c1, c2, c3, w, w - 1);
  }
}

/** Any grid, any alignment; the fallback and the reference the word loops must equal. */
function pairMeanBytes(
  data: Uint8Array,
  step: number,
  bpp: number,
  x0: number,
  y0: number,
  strideX: number,
  strideY: number,
  w: number,
  h: number,
  offset: number,
  out: Float32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  outStride: number,
  outStart: number,
): void {
  const dx = strideX * bpp;
  for (let y = 0; y < h; y++) {
    let a = (y0 + y * strideY) * step + x0 * bpp;
    let o = y * outStride + outStart;
    for (let x = 0; x < w; x++) {
      const a2 = a + bpp;
      const b = a + step;
      const b2 = b + bpp;
      let v = (data[a]! + data[a2]! + data[b]! + data[b2]!) * c0;
      if (bpp > 1) v += (data[a + 1]! + data[a2 + 1]! + data[b + 1]! + data[b2 + 1]!) * c1;
      if (bpp > 2) v += (data[a + 2]! + data[a2 + 2]! + data[b + 2]! + data[b2 + 2]!) * c2;
      if (bpp > 3) v += (data[a + 3]! + data[a2 + 3]! + data[b + 3]! + data[b2 + 3]!) * c3;
      out[o++] = v + offset;
      a += dx;
    }
  }
}

// Word loops: `a` and `b` index the top and bottom source rows of an output row; lanes are
// named for the byte positions (within a pixel) whose sums they hold.

function swar1(
  words: Uint32Array,
  first: number,
  dy: number,
  rowWords: number,
  w: number,
  h: number,
  offset: number,
  out: Float32Array,
  c0: number,
): void {
  const pairs = w >> 1;
  for (let y = 0; y < h; y++) {
    let a = first + y * dy;
    let o = y * w;
    for (let i = 0; i < pairs; i++) {
      const p = words[a]!;
      const q = words[a + rowWords]!;
      // Lanes: pixels 0+1 and 2+3 of both rows.
      const s = (p & M) + (q & M) + ((p >>> 8) & M) + ((q >>> 8) & M);
      out[o] = (s & 0xffff) * c0 + offset;
      out[o + 1] = (s >>> 16) * c0 + offset;
      o += 2;
      a += 1;
    }
  }
}

function swar2(
  words: Uint32Array,
  first: number,
  dy: number,
  rowWords: number,
  w: number,
  h: number,
  offset: number,
  out: Float32Array,
  c0: number,
  c1: number,
): void {
  for (let y = 0; y < h; y++) {
    let a = first + y * dy;
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const p = words[a]!;
      const q = words[a + rowWords]!;
      const e = (p & M) + (q & M);
      const f = ((p >>> 8) & M) + ((q >>> 8) & M);
      out[o + x] = ((e & 0xffff) + (e >>> 16)) * c0 + ((f & 0xffff) + (f >>> 16)) * c1 + offset;
      a += 1;
    }
  }
}

function swar3(
  words: Uint32Array,
  first: number,
  dy: number,
  rowWords: number,
  w: number,
  h: number,
  offset: number,
  out: Float32Array,
  c0: number,
  c1: number,
  c2: number,
): void {
  const pairs = w >> 1;
  for (let y = 0; y < h; y++) {
    let a = first + y * dy;
    let o = y * w;
    for (let i = 0; i < pairs; i++) {
      // Four pixels in three words: [0.0 0.1 0.2 1.0] [1.1 1.2 2.0 2.1] [2.2 3.0 3.1 3.2].
      const b = a + rowWords;
      const p0 = words[a]!;
      const p1 = words[a + 1]!;
      const p2 = words[a + 2]!;
      const q0 = words[b]!;
      const q1 = words[b + 1]!;
      const q2 = words[b + 2]!;
      const lo0 = (p0 & M) + (q0 & M); // 0.0 | 0.2
      const hi0 = ((p0 >>> 8) & M) + ((q0 >>> 8) & M); // 0.1 | 1.0
      const lo1 = (p1 & M) + (q1 & M); // 1.1 | 2.0
      const hi1 = ((p1 >>> 8) & M) + ((q1 >>> 8) & M); // 1.2 | 2.1
      const lo2 = (p2 & M) + (q2 & M); // 2.2 | 3.1
      const hi2 = ((p2 >>> 8) & M) + ((q2 >>> 8) & M); // 3.0 | 3.2
      out[o] =
        ((lo0 & 0xffff) + (hi0 >>> 16)) * c0 +
        ((hi0 & 0xffff) + (lo1 & 0xffff)) * c1 +
        ((lo0 >>> 16) + (hi1 & 0xffff)) * c2 +
        offset;
      out[o + 1] =
        ((lo1 >>> 16) + (hi2 & 0xffff)) * c0 +
        ((hi1 >>> 16) + (lo2 >>> 16)) * c1 +
        ((lo2 & 0xffff) + (hi2 >>> 16)) * c2 +
        offset;
      o += 2;
      a += 3;
    }
  }
}

function swar4(
  words: Uint32Array,
  first: number,
  dy: number,
  rowWords: number,
  w: number,
  h: number,
  offset: number,
  out: Float32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
): void {
  for (let y = 0; y < h; y++) {
    let a = first + y * dy;
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const b = a + rowWords;
      const p0 = words[a]!;
      const p1 = words[a + 1]!;
      const q0 = words[b]!;
      const q1 = words[b + 1]!;
      const e = (p0 & M) + (p1 & M) + (q0 & M) + (q1 & M); // 0 | 2
      const f = ((p0 >>> 8) & M) + ((p1 >>> 8) & M) + ((q0 >>> 8) & M) + ((q1 >>> 8) & M); // 1 | 3
      out[o + x] = (e & 0xffff) * c0 + (f & 0xffff) * c1 + (e >>> 16) * c2 + (f >>> 16) * c3 + offset;
      a += 2;
    }
  }
}
