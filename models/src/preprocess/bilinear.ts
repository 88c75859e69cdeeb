import type { GreyMap, LinearGreyMap, YuvGreyMap } from './colour.ts';
import { YUV_TO_RGB } from './colour.ts';
import type { ResamplePlan } from './plan.ts';

/**
 * General bilinear resize (any source size, any layout) restricted to the crop, separable:
 * each needed source row is resampled horizontally into `plan.horizontal`, grey computed at
 * each tap straight from the bytes; then a vertical pass writes the output. Allocates nothing.
 * Output is NCHW for one grey channel: out[y * w + x].
 *
 * Scaling is folded into the grey coefficients: bilinear weights sum to 1, so
 * resample(grey) * scale + offset = resample(grey * scale) + offset.
 *
 * The passes are separate functions so that V8 optimises each loop on its own; with all loops
 * in one function it compiled the first loop on-stack before the later ones had run, then
 * deoptimised on reaching them, frame after frame.
 */
export function resampleGeneric(
  data: Uint8Array,
  step: number,
  map: GreyMap,
  plan: ResamplePlan,
  scale: number,
  offset: number,
  out: Float32Array,
): void {
  const rows = plan.rows.src;
  for (let r = 0; r < rows.length; r++) {
    const rowStart = rows[r]! * step;
    if (map.kind === 'linear') horizontalLinear(data, rowStart, map, scale, plan, r);
    else horizontalYuv(data, rowStart, map, scale, plan, r);
  }
  vertical(plan, offset, out);
}

/** Source row starting at byte `row` into row `r` of `plan.horizontal`. */
function horizontalLinear(
  data: Uint8Array,
  row: number,
  map: LinearGreyMap,
  scale: number,
  plan: ResamplePlan,
  r: number,
): void {
  const { horizontal: h, outWidth: w } = plan;
  const { i0, i1, w: weight } = plan.cols;
  const bpp = map.bytesPerPixel;
  const c = map.coeffs;
  const c0 = (c[0] ?? 0) * scale;
  const c1 = (c[1] ?? 0) * scale;
  const c2 = (c[2] ?? 0) * scale;
  const c3 = (c[3] ?? 0) * scale;
  const base = r * w;
  for (let x = 0; x < w; x++) {
    const f = weight[x]!;
    const p = row + i0[x]! * bpp;
    const q = row + i1[x]! * bpp;
    let a = data[p]! * c0;
    let b = data[q]! * c0;
    if (bpp > 1) {
      a += data[p + 1]! * c1;
      b += data[q + 1]! * c1;
    }
    if (bpp > 2) {
      a += data[p + 2]! * c2;
      b += data[q + 2]! * c2;
    }
    if (bpp > 3) {
      a += data[p + 3]! * c3;
      b += data[q + 3]! * c3;
    }
    h[base + x] = a * (1 - f) + b * f;
  }
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Grey (times the folded weights) of pixel `x` of a YUV 4:2:2 row starting at byte `row`. */
function yuvGrey(
  data: Uint8Array,
  row: number,
  x: number,
  map: YuvGreyMap,
  wr: number,
  wg: number,
  wb: number,
): number {
  const pair = row + (x >> 1) * 4;
  const y = data[pair + map.y + (x & 1) * 2]!;
  const u = data[pair + map.u]! - 128;
  const v = data[pair + map.v]! - 128;
  const { rv, gu, gv, bu } = YUV_TO_RGB;
  return clamp255(y + rv * v) * wr + clamp255(y - gu * u - gv * v) * wg + clamp255(y + bu * u) * wb;
}

function horizontalYuv(
  data: Uint8Array,
  row: number,
  map: YuvGreyMap,
  scale: number,
  plan: ResamplePlan,
  r: number,
): void {
  const { horizontal: h, outWidth: w } = plan;
  const { i0, i1, w: weight } = plan.cols;
  const wr = map.weights[0] * scale;
  const wg = map.weights[1] * scale;
  const wb = map.weights[2] * scale;
  const base = r * w;
  for (let x = 0; x < w; x++) {
    const f = weight[x]!;
    const a = yuvGrey(data, row, i0[x]!, map, wr, wg, wb);
    const b = yuvGrey(data, row, i1[x]!, map, wr, wg, wb);
    h[base + x] = a * (1 - f) + b * f;
  }
}

function vertical(plan: ResamplePlan, offset: number, out: Float32Array): void {
  const { horizontal: h, outWidth: w, outHeight: height } = plan;
  const { lo, hi, w: weight } = plan.rows;
  for (let y = 0; y < height; y++) {
    const f = weight[y]!;
    const a = lo[y]! * w;
    const b = hi[y]! * w;
    const row = y * w;
    // Shrinks by odd integer factors (720 -> 240) land exactly on source rows.
    if (f === 0) {
      for (let x = 0; x < w; x++) out[row + x] = h[a + x]! + offset;
    } else {
      for (let x = 0; x < w; x++) out[row + x] = h[a + x]! * (1 - f) + h[b + x]! * f + offset;
    }
  }
}
