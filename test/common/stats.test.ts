import { describe, expect, it } from 'vitest';
import { percentile, round3, summarise } from '../../common/index.ts';

describe('percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it('is nearest-rank on q in [0, 1]', () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 0.991)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile(hundred, 1)).toBe(100);
    expect(percentile([10, 20, 30], 0.5)).toBe(20);
    expect(percentile([10, 20, 30, 40], 0.5)).toBe(20);
  });

  it('reads typed arrays as well as arrays', () => {
    expect(percentile(Float64Array.from([0.25, 0.5, 1.5, 2]), 0.75)).toBe(1.5);
  });

  it('is NaN without samples', () => {
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('rejects a q outside [0, 1], such as a percentage', () => {
    expect(() => percentile(hundred, 50)).toThrow(new RangeError('percentile: q must be in [0, 1], got 50'));
    expect(() => percentile(hundred, Number.NaN)).toThrow(RangeError);
  });
});

describe('summarise', () => {
  it('sorts a copy and reports p50, p99 and the mean', () => {
    const samples = [5, 1, 4, 2, 3];
    expect(summarise(samples)).toEqual({ p50: 3, p99: 5, mean: 3 });
    expect(samples).toEqual([5, 1, 4, 2, 3]);
  });

  it('gives NaN percentiles and a zero mean for no samples', () => {
    expect(summarise([])).toEqual({ p50: Number.NaN, p99: Number.NaN, mean: 0 });
  });
});

describe('round3', () => {
  it('rounds to three decimals', () => {
    expect(round3(1.23456)).toBe(1.235);
    expect(round3(-0.0004)).toBe(-0);
    expect(round3(2)).toBe(2);
  });
});
