import type { GreyMap, LinearGreyMap } from './colour.ts';
import { YUV_TO_RGB } from './colour.ts';
import type { ResamplePlan } from './plan.ts';

/**
 * General bilinear resize (any source size, any layout) restricted to the crop, separable:
 * grey of the needed source columns of each needed source row, a horizontal pass into
 * `plan.horizontal`, then a vertical pass into the output. Allocates nothing.
 * Output is NCHW for one grey channel: out[y * w + x].
 *
 * Scaling is folded into the grey coefficients: bilinear weights sum to 1, so
 * resample(grey) * scale + offset = resample(grey * scale) + offset.
 */

/** Grey (times scale) of the plan's source columns on the source row starting at byte `row`. */
function greyColsLinear(
  data: Uint8Array,
  row: number,
  map: LinearGreyMap,
  scale: number,
  plan: ResamplePlan,
): void {
  const cols = plan.cols.src;
  const g = plan.greyRow;
  const bpp = map.bytesPerPixel;
  const c = map.coeffs;
  const c0 = (c[0] ?? 0) * scale;
  const c1 = (c[1] ?? 0) * scale;
  const c2 = (c[2] ?? 0) * scale;
  const c3 = (c[3] ?? 0) * scale;
  for (let i = 0; i < cols.length; i++) {
    const p = row + cols[i]! * bpp;
    let v = data[p]! * c0;
    if (bpp > 1) v += data[p + 1]! * c1;
    if (bpp > 2) v += data[p + 2]! * c2;
    if (bpp > 3) v += data[p + 3]! * c3;
    g[i] = v;
  }
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function greyColsYuv(
  data: Uint8Array,
  row: number,
  map: GreyMap & { kind: 'yuv-rgb' },
  scale: number,
  plan: ResamplePlan,
): void {
  const cols = plan.cols.src;
  const g = plan.greyRow;
  const { rv, gu, gv, bu } = YUV_TO_RGB;
  const wr = map.weights[0] * scale;
  const wg = map.weights[1] * scale;
  const wb = map.weights[2] * scale;
  for (let i = 0; i < cols.length; i++) {
    const x = cols[i]!;
    const pair = row + (x >> 1) * 4;
    const yv = data[pair + map.y + (x & 1) * 2]!;
    const u = data[pair + map.u]! - 128;
    const v = data[pair + map.v]! - 128;
    const r = clamp255(yv + rv * v);
    const gr = clamp255(yv - gu * u - gv * v);
    const b = clamp255(yv + bu * u);
    g[i] = r * wr + gr * wg + b * wb;
  }
}

/** Separable bilinear over the plan's taps; correct for any source size and any layout. */
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
    if (map.kind === 'linear') greyColsLinear(data, rowStart, map, scale, plan);
    else greyColsYuv(data, rowStart, map, scale, plan);
    horizontal(plan, r);
  }
  vertical(plan, offset, out);
}

// The passes are separate functions so that each loop is optimised on its own: in one function
// V8 compiled the first loop on-stack before the later code had run, then deoptimised on
// reaching it, again and again.

function horizontal(plan: ResamplePlan, r: number): void {
  const { greyRow: g, horizontal: h, outWidth: w } = plan;
  const { lo, hi, w: weight } = plan.cols;
  const base = r * w;
  for (let x = 0; x < w; x++) {
    const f = weight[x]!;
    h[base + x] = g[lo[x]!]! * (1 - f) + g[hi[x]!]! * f;
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
    for (let x = 0; x < w; x++) {
      out[row + x] = h[a + x]! * (1 - f) + h[b + x]! * f + offset;
    }
  }
}
