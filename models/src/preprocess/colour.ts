import type { PixelLayout } from './frame.ts';

/**
 * How one source pixel becomes grey in [0, 255].
 *
 * `linear`: grey = sum over the pixel's bytes of coeffs[j] * byte[j]. Every layout except YUV
 * under non-BT.601 weights is linear in its bytes (even mono16: value * 255/65535 =
 * hi * 256*255/65535 + lo * 255/65535; alpha and chroma bytes get 0), which lets the resize
 * sum raw bytes first and multiply once per output pixel.
 *
 * `yuv-rgb`: YUV decoded to RGB (clamped, as any decoder would) and then weighted; clamping
 * makes this non-linear, so it cannot be folded into byte sums.
 */
export type GreyMap =
  | {
      readonly kind: 'linear';
      readonly bytesPerPixel: number;
      /** One coefficient per byte of a pixel (length bytesPerPixel). */
      readonly coeffs: readonly number[];
    }
  | {
      readonly kind: 'yuv-rgb';
      /** Byte offsets inside a 4-byte pixel pair; Y of the odd pixel is 2 bytes after `y`. */
      readonly y: number;
      readonly u: number;
      readonly v: number;
      readonly weights: readonly [number, number, number];
    };

export type LinearGreyMap = GreyMap & { kind: 'linear' };
export type YuvGreyMap = GreyMap & { kind: 'yuv-rgb' };

export type GreyWeights = readonly [number, number, number];

const BT601: GreyWeights = [0.299, 0.587, 0.114];

/** Full-range BT.601 (JFIF) YCbCr -> RGB, derived from the luma weights rather than rounded constants. */
const [KR, KG, KB] = BT601;
export const YUV_TO_RGB = {
  rv: 2 * (1 - KR),
  gu: (2 * KB * (1 - KB)) / KG,
  gv: (2 * KR * (1 - KR)) / KG,
  bu: 2 * (1 - KB),
} as const;

export function isBt601(weights: GreyWeights): boolean {
  return weights.every((w, i) => Math.abs(w - (BT601[i] ?? Number.NaN)) < 1e-9);
}

function linear(coeffs: readonly number[]): LinearGreyMap {
  return { kind: 'linear', bytesPerPixel: coeffs.length, coeffs };
}

/**
 * Colour weights apply to colour layouts only: a mono frame is already grey, so it is taken
 * as is (mono16 rescaled to [0, 255]) whatever the weights sum to.
 */
export function greyMap(layout: PixelLayout, bigEndian: boolean, weights: GreyWeights): GreyMap {
  const [wr, wg, wb] = weights;
  switch (layout) {
    case 'rgb8':
      return linear([wr, wg, wb]);
    case 'bgr8':
      return linear([wb, wg, wr]);
    case 'rgba8':
      return linear([wr, wg, wb, 0]);
    case 'bgra8':
      return linear([wb, wg, wr, 0]);
    case 'mono8':
      return linear([1]);
    case 'mono16': {
      const hi = (256 * 255) / 65535;
      const lo = 255 / 65535;
      return linear(bigEndian ? [hi, lo] : [lo, hi]);
    }
    case 'yuyv':
    case 'uyvy': {
      const [y, u, v] = layout === 'yuyv' ? ([0, 1, 3] as const) : ([1, 0, 2] as const);
      // Full-range BT.601 luma is defined as Y = 0.299 R + 0.587 G + 0.114 B, so under BT.601
      // grey weights Y already is the grey value and chroma can be ignored. RealSense and UVC
      // colour streams are taken as full range. Any other weights need real RGB.
      if (isBt601(weights)) return linear(y === 0 ? [1, 0] : [0, 1]);
      return { kind: 'yuv-rgb', y, u, v, weights };
    }
  }
}
