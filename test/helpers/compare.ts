import { expect } from 'vitest';

export function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** max |a - b| / scale, the scale defaulting to max |b|: agreement relative to the reference. */
export function relDiff(a: Float32Array, b: Float32Array, scale = maxAbs(b)): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  return scale === 0 ? diff : diff / scale;
}
