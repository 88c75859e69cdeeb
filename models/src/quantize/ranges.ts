// Activation ranges from calibration data: the pure statistics behind an int8 model. Values
// arrive tensor by tensor, batch by batch; a method turns what was seen into one range per
// tensor. Min-max keeps every value representable; percentile and entropy clip rare outliers so
// the common values get finer steps.
import { QuantizeError } from './errors.ts';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

export interface ActivationRange {
  readonly min: number;
  readonly max: number;
}

/** Histogram bins per tensor: fine enough for a 99.99th percentile, small enough to keep per tensor. */
export const HISTOGRAM_BINS = 2048;
/** Share of values the percentile method clips at each end. */
export const PERCENTILE_CLIP = 1e-4;
/** Quantized levels one sign of an 8-bit range has: what the entropy method compares against. */
const ENTROPY_LEVELS = 128;

/** Does this method need a second pass (histograms over the first pass's min and max)? */
export function needsHistogram(method: CalibrationMethod): boolean {
  return method !== 'minmax';
}

/** Min and max of everything seen, tensor by tensor. */
export class MinMaxObserver {
  readonly #ranges = new Map<string, { min: number; max: number }>();

  observe(tensor: string, values: ArrayLike<number>): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
      if (values.length === 0) return;
      throw new QuantizeError(`calibration tensor ${tensor} holds a non-finite value`);
    }
    const r = this.#ranges.get(tensor);
    if (r === undefined) this.#ranges.set(tensor, { min: lo, max: hi });
    else {
      r.min = Math.min(r.min, lo);
      r.max = Math.max(r.max, hi);
    }
  }

  ranges(): Map<string, ActivationRange> {
    return new Map([...this.#ranges].map(([k, v]) => [k, { min: v.min, max: v.max }]));
  }
}

/**
 * Two histograms per tensor over the first pass's range: of the values (for percentiles) and
 * of their magnitudes (for the entropy threshold, TensorRT's method).
 */
export class HistogramObserver {
  readonly #bounds: ReadonlyMap<string, ActivationRange>;
  readonly #values = new Map<string, Float64Array>();
  readonly #magnitudes = new Map<string, Float64Array>();

  constructor(bounds: ReadonlyMap<string, ActivationRange>) {
    this.#bounds = bounds;
  }

  observe(tensor: string, values: ArrayLike<number>): void {
    const b = this.#bounds.get(tensor);
    if (b === undefined) throw new QuantizeError(`calibration tensor ${tensor} has no first-pass range`);
    let hv = this.#values.get(tensor);
    let hm = this.#magnitudes.get(tensor);
    if (hv === undefined || hm === undefined) {
      hv = new Float64Array(HISTOGRAM_BINS);
      hm = new Float64Array(HISTOGRAM_BINS);
      this.#values.set(tensor, hv);
      this.#magnitudes.set(tensor, hm);
    }
    const span = b.max - b.min;
    const vScale = span > 0 ? HISTOGRAM_BINS / span : 0;
    const absMax = Math.max(Math.abs(b.min), Math.abs(b.max));
    const mScale = absMax > 0 ? HISTOGRAM_BINS / absMax : 0;
    const last = HISTOGRAM_BINS - 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      hv[Math.min(last, Math.max(0, Math.floor((v - b.min) * vScale)))]! += 1;
      hm[Math.min(last, Math.floor(Math.abs(v) * mScale))]! += 1;
    }
  }

  /** Range per tensor by the given method (percentile or entropy). */
  ranges(method: Exclude<CalibrationMethod, 'minmax'>): Map<string, ActivationRange> {
    const out = new Map<string, ActivationRange>();
    for (const [tensor, b] of this.#bounds) {
      const hv = this.#values.get(tensor);
      const hm = this.#magnitudes.get(tensor);
      if (hv === undefined || hm === undefined) {
        out.set(tensor, b);
        continue;
      }
      if (method === 'percentile') out.set(tensor, percentileRange(hv, b));
      else {
        const absMax = Math.max(Math.abs(b.min), Math.abs(b.max));
        const t = ((entropyThresholdBin(hm) + 0.5) / HISTOGRAM_BINS) * absMax;
        out.set(tensor, { min: Math.max(b.min, -t), max: Math.min(b.max, t) });
      }
    }
    return out;
  }
}

/** The values' [PERCENTILE_CLIP, 1 - PERCENTILE_CLIP] quantiles, read off the histogram. */
export function percentileRange(hist: Float64Array, bounds: ActivationRange): ActivationRange {
  const total = hist.reduce((a, b) => a + b, 0);
  const width = (bounds.max - bounds.min) / hist.length;
  if (total === 0 || width === 0) return bounds;
  const cut = total * PERCENTILE_CLIP;
  let lo = 0;
  for (let seen = 0; lo < hist.length - 1 && seen + hist[lo]! <= cut; lo++) seen += hist[lo]!;
  let hi = hist.length - 1;
  for (let seen = 0; hi > lo && seen + hist[hi]! <= cut; hi--) seen += hist[hi]!;
  return { min: bounds.min + lo * width, max: bounds.min + (hi + 1) * width };
}

/**
 * TensorRT's entropy calibration: the clipping threshold (as a bin of the magnitude histogram)
 * whose 128-level quantization loses least information, measured as the KL divergence between
 * the clipped distribution (outliers folded into the last bin) and its quantized version.
 */
export function entropyThresholdBin(hist: Float64Array): number {
  const n = hist.length;
  let lastNonZero = n - 1;
  while (lastNonZero > 0 && hist[lastNonZero] === 0) lastNonZero--;
  if (lastNonZero < ENTROPY_LEVELS) return lastNonZero;
  let best = lastNonZero;
  let bestKl = Number.POSITIVE_INFINITY;
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  for (let i = ENTROPY_LEVELS; i <= lastNonZero + 1 && i <= n; i++) {
    // Reference distribution: the first i bins, everything beyond folded into the last.
    let outliers = 0;
    for (let j = i; j < n; j++) outliers += hist[j]!;
    for (let j = 0; j < i; j++) p[j] = hist[j]!;
    p[i - 1]! += outliers;
    // Candidate: the first i bins merged into 128 levels, each level spread back evenly over
    // the bins that were non-zero.
    const per = i / ENTROPY_LEVELS;
    q.fill(0, 0, i);
    for (let level = 0; level < ENTROPY_LEVELS; level++) {
      const start = Math.floor(level * per);
      const end = level === ENTROPY_LEVELS - 1 ? i : Math.floor((level + 1) * per);
      let sum = 0;
      let nonZero = 0;
      for (let j = start; j < end; j++) {
        sum += hist[j]!;
        if (hist[j]! > 0) nonZero++;
      }
      if (nonZero === 0) continue;
      for (let j = start; j < end; j++) if (hist[j]! > 0) q[j] = sum / nonZero;
    }
    const kl = klDivergence(p, q, i);
    if (kl < bestKl) {
      bestKl = kl;
      best = i - 1;
    }
  }
  return best;
}

function klDivergence(p: Float64Array, q: Float64Array, n: number): number {
  let ps = 0;
  let qs = 0;
  for (let j = 0; j < n; j++) {
    ps += p[j]!;
    qs += q[j]!;
  }
  if (ps === 0 || qs === 0) return Number.POSITIVE_INFINITY;
  let kl = 0;
  for (let j = 0; j < n; j++) {
    const pj = p[j]! / ps;
    if (pj === 0) continue;
    const qj = q[j]! / qs;
    // A level the candidate cannot represent at all: a large but finite penalty, as TensorRT does.
    kl += qj === 0 ? pj * Math.log(pj / 1e-12) : pj * Math.log(pj / qj);
  }
  return kl;
}
