// Summary statistics for benchmarks and diagnostics. One percentile definition for the whole
// project, so a p99 printed by one benchmark means the same as another's.

/**
 * Nearest-rank percentile of ascending samples, `q` in [0, 1] (0.5 is the median, 0 the
 * minimum, 1 the maximum); NaN when there are no samples.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile: q must be in [0, 1], got ${q}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
}

export interface Summary {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** p50, p99 and mean of unsorted samples (the input is not modified). */
export function summarise(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length),
  };
}

/** Rounded to three decimals, for printed figures (milliseconds to the microsecond). */
export const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/**
 * Round half to even (Python's round(), and ONNX QuantizeLinear's rounding): 2.5 -> 2,
 * 3.5 -> 4, -1.5 -> -2. The planner's multiplicities follow the reference code's rounding with
 * it, and int8 quantization the runtime's.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
