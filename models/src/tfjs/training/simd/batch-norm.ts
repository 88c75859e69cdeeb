// Loader for batch-norm.wasm: the batch norm + ReLU kernels of training on the tfjs wasm
// backend's heap (see batch-norm.wat; batch-norm-kernels.ts registers them as tfjs kernels).
import { heapModule, type HeapAddress } from './heap-module.ts';

interface Exports {
  channelSums(x: number, out: number, scratch: number, rows: number, c: number): void;
  squaredDeviations(x: number, mean: number, out: number, scratch: number, rows: number, c: number): void;
  scaleShiftRelu(x: number, scale: number, y: number, rows: number, c: number): void;
  gradSums(
    x: number,
    y: number,
    dy: number,
    mean: number,
    out: number,
    scratch: number,
    rows: number,
    c: number,
  ): void;
  inputGrad(x: number, y: number, dy: number, coef: number, dx: number, rows: number, c: number): void;
}

/**
 * The kernels bound to one backend's heap. Arguments are views of that heap; x, y, dy and dx
 * are `rows` rows of `c` floats, c a positive multiple of 4; `scratch` is the kernel's to
 * overwrite. The sums are blocked for float32 accuracy (see batch-norm.wat).
 */
export interface BatchNormSimd {
  /** out[ch] = sum_r x[r, ch]; scratch: c floats. */
  channelSums(x: Float32Array, rows: number, c: number, out: Float32Array, scratch: Float32Array): void;
  /** out[ch] = sum_r (x[r, ch] - mean[ch])^2; scratch: c floats. */
  squaredDeviations(
    x: Float32Array,
    mean: Float32Array,
    rows: number,
    c: number,
    out: Float32Array,
    scratch: Float32Array,
  ): void;
  /** y = max(0, x * scale + shift) per channel; `scaleShift` holds scale then shift (2c floats). */
  scaleShiftRelu(x: Float32Array, scaleShift: Float32Array, rows: number, c: number, y: Float32Array): void;
  /**
   * With g = dy where y > 0, else 0: out[ch] = sum_r g, out[c + ch] = sum_r g * (x - mean[ch]);
   * scratch: 2c floats.
   */
  gradSums(
    x: Float32Array,
    y: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    rows: number,
    c: number,
    out: Float32Array,
    scratch: Float32Array,
  ): void;
  /**
   * dx = g * p - (x - mean) * q - k per channel, g as in gradSums; `coef` holds mean, p, q and k
   * (4c floats).
   */
  inputGrad(
    x: Float32Array,
    y: Float32Array,
    dy: Float32Array,
    coef: Float32Array,
    rows: number,
    c: number,
    dx: Float32Array,
  ): void;
}

function bind(e: Exports, address: HeapAddress): BatchNormSimd {
  const at = (v: Float32Array, floats: number): number => {
    // The kernels trust their pointers: check here that each view covers what they touch.
    if (v.length < floats)
      throw new Error(`batch norm SIMD kernel given ${v.length} floats, needs ${floats}`);
    return address(v);
  };
  const check = (rows: number, c: number): number => {
    if (c <= 0 || c % 4 !== 0)
      throw new Error(`batch norm SIMD kernels need a multiple of 4 channels, got ${c}`);
    return rows * c;
  };
  return {
    channelSums(x, rows, c, out, scratch) {
      e.channelSums(at(x, check(rows, c)), at(out, c), at(scratch, c), rows, c);
    },
    squaredDeviations(x, mean, rows, c, out, scratch) {
      e.squaredDeviations(at(x, check(rows, c)), at(mean, c), at(out, c), at(scratch, c), rows, c);
    },
    scaleShiftRelu(x, scaleShift, rows, c, y) {
      const size = check(rows, c);
      e.scaleShiftRelu(at(x, size), at(scaleShift, 2 * c), at(y, size), rows, c);
    },
    gradSums(x, y, dy, mean, rows, c, out, scratch) {
      const size = check(rows, c);
      e.gradSums(
        at(x, size),
        at(y, size),
        at(dy, size),
        at(mean, c),
        at(out, 2 * c),
        at(scratch, 2 * c),
        rows,
        c,
      );
    },
    inputGrad(x, y, dy, coef, rows, c, dx) {
      const size = check(rows, c);
      e.inputGrad(at(x, size), at(y, size), at(dy, size), at(coef, 4 * c), at(dx, size), rows, c);
    },
  };
}

/** The kernels on `backend`'s heap (a tfjs wasm backend); null when they cannot run there. */
export const batchNormSimd = heapModule(new URL('./batch-norm.wasm', import.meta.url), bind);
