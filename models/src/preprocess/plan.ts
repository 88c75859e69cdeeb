import type { WordView } from './pair-mean.ts';

/**
 * Sampling tables for "resize the whole frame, then centre-crop", restricted to the pixels
 * that survive the crop. They depend only on the spec and the source size, so a preprocessor
 * builds them on the first frame of a size and reuses them for every later frame.
 */

/** Bilinear taps along one axis for each output sample inside the crop. */
export interface AxisTaps {
  /** Per output sample: source index of the lower and upper tap. */
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  /** Per output sample: weight of the upper tap (the lower one gets 1 - w). */
  readonly w: Float64Array;
  /** Distinct source indices the crop reads, ascending. */
  readonly src: Int32Array;
  /** Per output sample: index into `src` of the lower and upper tap. */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
}

/** Where the 2x2-mean fast path starts and how far it steps, in source pixels. */
export interface PairGrid {
  readonly x0: number;
  readonly y0: number;
  readonly strideX: number;
  readonly strideY: number;
}

export interface ResamplePlan {
  readonly srcWidth: number;
  readonly srcHeight: number;
  readonly outWidth: number;
  readonly outHeight: number;
  readonly cols: AxisTaps;
  readonly rows: AxisTaps;
  /** Non-null when both axes shrink by an even integer factor (see `pairGrid`). */
  readonly pair: PairGrid | null;
  /** Scratch: horizontally resampled rows, one per entry of `rows.src`. */
  readonly horizontal: Float64Array;
  /** Scratch: the 32-bit view of the last frame read by the 2x path. */
  readonly wordView: WordView;
}

export interface CropGeometry {
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  readonly cropWidth: number;
  readonly cropHeight: number;
}

/** Offset of a centred crop, rounded down as the reference pipeline does. */
export function cropStart(resized: number, crop: number): number {
  return Math.floor((resized - crop) / 2);
}

/**
 * OpenCV INTER_LINEAR coordinates: half-pixel centres, src = (dst + 0.5) * scale - 0.5, and at
 * the borders the tap is clamped with weight 0 (cv::resize, not an antialiasing filter, so
 * a large shrink still reads only two source samples per output sample).
 */
export function axisTaps(srcSize: number, resizedSize: number, start: number, count: number): AxisTaps {
  const scale = srcSize / resizedSize;
  const i0s = new Int32Array(count);
  const i1s = new Int32Array(count);
  const w = new Float64Array(count);
  for (let d = 0; d < count; d++) {
    const f = (start + d + 0.5) * scale - 0.5;
    let i0 = Math.floor(f);
    let frac = f - i0;
    if (i0 < 0) {
      i0 = 0;
      frac = 0;
    }
    if (i0 >= srcSize - 1) {
      i0 = srcSize - 1;
      frac = 0;
    }
    i0s[d] = i0;
    // A zero-weight tap would still cost a read; point it at the lower tap instead.
    i1s[d] = frac === 0 ? i0 : i0 + 1;
    w[d] = frac;
  }
  const src = Int32Array.from(new Set([...i0s, ...i1s])).sort();
  const position = new Map<number, number>();
  src.forEach((s, i) => position.set(s, i));
  const find = (s: number): number => position.get(s) ?? 0;
  return { i0: i0s, i1: i1s, w, src, lo: i0s.map(find), hi: i1s.map(find) };
}

/**
 * For a shrink by an even integer factor k, src = k * dst + k/2 - 0.5: every output sample sits
 * exactly between two source samples with weights 1/2 each, so bilinear is the mean of a 2x2
 * block (a plain box average for k = 2, as for 640x480 -> 320x240).
 */
function pairGrid(src: number, resized: number, start: number): { first: number; stride: number } | null {
  if (src % resized !== 0) return null;
  const k = src / resized;
  if (k % 2 !== 0) return null;
  return { first: k * start + k / 2 - 1, stride: k };
}

export function buildPlan(geometry: CropGeometry, srcWidth: number, srcHeight: number): ResamplePlan {
  const { resizeWidth, resizeHeight, cropWidth, cropHeight } = geometry;
  const x0 = cropStart(resizeWidth, cropWidth);
  const y0 = cropStart(resizeHeight, cropHeight);
  const cols = axisTaps(srcWidth, resizeWidth, x0, cropWidth);
  const rows = axisTaps(srcHeight, resizeHeight, y0, cropHeight);
  const px = pairGrid(srcWidth, resizeWidth, x0);
  const py = pairGrid(srcHeight, resizeHeight, y0);
  return {
    srcWidth,
    srcHeight,
    outWidth: cropWidth,
    outHeight: cropHeight,
    cols,
    rows,
    pair:
      px !== null && py !== null
        ? { x0: px.first, y0: py.first, strideX: px.stride, strideY: py.stride }
        : null,
    horizontal: new Float64Array(rows.src.length * cropWidth),
    wordView: { words: new Uint32Array(0) },
  };
}
