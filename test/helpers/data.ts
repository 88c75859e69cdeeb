// Deterministic test data shared by the kernel tests, so every backend and kernel sees the same
// values.

/** Deterministic values in [-1, 1) (an LCG); with `levels`, rounded to that many steps (ties in max pools). */
export function seeded(size: number, seed: number, levels = 0): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = s / 2 ** 31 - 1;
    out[i] = levels > 0 ? Math.round(v * levels) / levels : v;
  }
  return out;
}

/**
 * The max-pool gradient rule, written plainly: each output's gradient to the first element of
 * its window equal to the pooled value, or to the window's last element when none is (a NaN),
 * windows in row-major order and channels inside. x is [N,H,W,C] NHWC, windows k x k at stride s.
 */
export function maxPoolGradReference(
  x: Float32Array,
  [n, h, w, c]: readonly [number, number, number, number],
  y: Float32Array,
  dy: Float32Array,
  [oh, ow]: readonly [number, number],
  k: number,
  s: number,
): Float32Array {
  const dx = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let ch = 0; ch < c; ch++) {
          const o = ((b * oh + i) * ow + j) * c + ch;
          let at = -1;
          for (let t = 0; t < k * k && at < 0; t++) {
            const p = ((b * h + i * s + Math.floor(t / k)) * w + j * s + (t % k)) * c + ch;
            if (x[p] === y[o] || t === k * k - 1) at = p;
          }
          dx[at] = dx[at]! + dy[o]!;
        }
      }
    }
  }
  return dx;
}
