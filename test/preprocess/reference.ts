// An independent, deliberately plain model of the input contract, for tests only: decode every
// pixel to float RGB (or grey for mono), resize the whole frame with textbook OpenCV bilinear
// maths, crop, then weight and scale. It shares no code with the implementation and works in
// the opposite order (resize before grey) on purpose.
import type { InputSpec } from '../../models/src/input-spec.ts';
import type { RawImage } from '../../models/src/preprocess/index.ts';

export interface FloatImage {
  width: number;
  height: number;
  channels: number;
  /** Interleaved, row-major, no padding. */
  pixels: Float64Array;
}

const BT601 = [0.299, 0.587, 0.114];

function isBt601(weights: readonly number[]): boolean {
  return weights.every((w, i) => w === BT601[i]);
}

function byteAt(img: RawImage, x: number, y: number, k: number, bpp: number): number {
  const v = img.data[y * img.step + x * bpp + k];
  if (v === undefined) throw new Error(`reference read past the frame at ${x},${y}`);
  return v;
}

/** Full-range BT.601 YCbCr -> RGB with the usual published constants. */
function yuvToRgb(y: number, u: number, v: number, clamp: boolean): [number, number, number] {
  const c = (x: number): number => (clamp ? Math.min(255, Math.max(0, x)) : x);
  const cb = u - 128;
  const cr = v - 128;
  return [c(y + 1.402 * cr), c(y - 0.344136 * cb - 0.714136 * cr), c(y + 1.772 * cb)];
}

/** Decodes a raw frame: RGB for colour encodings, one grey channel for mono. */
export function decode(img: RawImage, weights: readonly number[]): FloatImage {
  const { width, height, encoding } = img;
  const mono = encoding === 'mono8' || encoding === 'mono16';
  const channels = mono ? 1 : 3;
  const pixels = new Float64Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let px: number[];
      switch (encoding) {
        case 'rgb8':
          px = [0, 1, 2].map((k) => byteAt(img, x, y, k, 3));
          break;
        case 'bgr8':
          px = [2, 1, 0].map((k) => byteAt(img, x, y, k, 3));
          break;
        case 'rgba8':
          px = [0, 1, 2].map((k) => byteAt(img, x, y, k, 4));
          break;
        case 'bgra8':
          px = [2, 1, 0].map((k) => byteAt(img, x, y, k, 4));
          break;
        case 'mono8':
          px = [byteAt(img, x, y, 0, 1)];
          break;
        case 'mono16': {
          const first = byteAt(img, x, y, 0, 2);
          const second = byteAt(img, x, y, 1, 2);
          const value = img.is_bigendian ? first * 256 + second : second * 256 + first;
          px = [(value / 65535) * 255];
          break;
        }
        default: {
          // Two pixels share four bytes: U Y0 V Y1 (yuv422, uyvy) or Y0 U Y1 V (yuyv, yuv422_yuy2).
          const [y0, u, y1, v] = encoding === 'yuv422' || encoding === 'uyvy' ? [1, 0, 3, 2] : [0, 1, 2, 3];
          const group = Math.floor(x / 2) * 2;
          const at = (k: number): number => byteAt(img, group, y, k, 2);
          const yv = at(x % 2 === 0 ? y0 : y1);
          // Under BT.601 weights grey must equal Y; decoding without clamping makes the
          // reference show that rather than assume it.
          px = yuvToRgb(yv, at(u), at(v), !isBt601(weights));
        }
      }
      pixels.set(px, (y * width + x) * channels);
    }
  }
  return { width, height, channels, pixels };
}

/** cv2.resize(..., interpolation=INTER_LINEAR) in floating point. */
export function resizeBilinear(src: FloatImage, width: number, height: number): FloatImage {
  const { channels } = src;
  const pixels = new Float64Array(width * height * channels);
  const taps = (d: number, srcSize: number, dstSize: number): [number, number, number] => {
    let s = (d + 0.5) * (srcSize / dstSize) - 0.5;
    if (s < 0) s = 0;
    if (s > srcSize - 1) s = srcSize - 1;
    const i0 = Math.floor(s);
    const i1 = Math.min(i0 + 1, srcSize - 1);
    return [i0, i1, s - i0];
  };
  for (let y = 0; y < height; y++) {
    const [y0, y1, fy] = taps(y, src.height, height);
    for (let x = 0; x < width; x++) {
      const [x0, x1, fx] = taps(x, src.width, width);
      for (let c = 0; c < channels; c++) {
        const p = (xx: number, yy: number): number => src.pixels[(yy * src.width + xx) * channels + c] ?? NaN;
        const top = p(x0, y0) * (1 - fx) + p(x1, y0) * fx;
        const bottom = p(x0, y1) * (1 - fx) + p(x1, y1) * fx;
        pixels[(y * width + x) * channels + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return { width, height, channels, pixels };
}

export function crop(src: FloatImage, left: number, top: number, width: number, height: number): FloatImage {
  const { channels } = src;
  const pixels = new Float64Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * src.width + left) * channels;
    pixels.set(src.pixels.subarray(from, from + width * channels), y * width * channels);
  }
  return { width, height, channels, pixels };
}

/** Grey in [0, 255] per pixel: weights for RGB, the value itself for one channel. */
export function toGrey(img: FloatImage, weights: readonly number[]): Float64Array {
  const grey = new Float64Array(img.width * img.height);
  for (let i = 0; i < grey.length; i++) {
    if (img.channels === 1) grey[i] = img.pixels[i] ?? NaN;
    else
      grey[i] = [0, 1, 2].reduce((sum, c) => sum + (weights[c] ?? NaN) * (img.pixels[i * 3 + c] ?? NaN), 0);
  }
  return grey;
}

/** Grey of the model input, before scaling (so differences read in grey levels). */
export function referenceGrey(img: RawImage, spec: InputSpec): Float64Array {
  const weights = spec.colour.weights;
  const resized = resizeBilinear(decode(img, weights), spec.resize.width, spec.resize.height);
  const left = Math.floor((spec.resize.width - spec.crop.width) / 2);
  const top = Math.floor((spec.resize.height - spec.crop.height) / 2);
  return toGrey(crop(resized, left, top, spec.crop.width, spec.crop.height), weights);
}

/** Largest |actual - expected| in grey levels, undoing the spec's scaling on `actual`. */
export function maxGreyError(actual: Float32Array, expectedGrey: ArrayLike<number>, spec: InputSpec): number {
  if (actual.length !== expectedGrey.length) {
    throw new Error(`length ${actual.length} != ${expectedGrey.length}`);
  }
  const { scale, offset } = spec.scaling;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const grey = ((actual[i] ?? NaN) - offset) / scale;
    const diff = Math.abs(grey - (expectedGrey[i] ?? NaN));
    // NaN must fail the comparison, so it is caught explicitly rather than lost in Math.max.
    if (!(diff <= worst)) worst = Number.isNaN(diff) ? Infinity : diff;
  }
  return worst;
}

/** Largest difference between two model inputs, in grey levels. */
export function maxInputDiff(a: Float32Array, b: Float32Array, spec: InputSpec): number {
  const grey = Float64Array.from(b, (v) => (v - spec.scaling.offset) / spec.scaling.scale);
  return maxGreyError(a, grey, spec);
}
