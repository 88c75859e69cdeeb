// Loader for pool.wasm: a max pool that records each output's window position, and the
// gradient that reads those positions instead of x and y, with WebAssembly SIMD on the tfjs
// wasm backend's heap (see heap-module.ts and pool.wat).
import { heapModule } from './heap-module.ts';
import type { PoolGeometry } from './train-simd.ts';

export type { PoolGeometry };

interface Exports {
  maxPoolTaps(
    x: number,
    y: number,
    tap: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
  ): void;
  maxPool3x3Taps(
    x: number,
    y: number,
    tap: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    sh: number,
    sw: number,
  ): void;
  maxPoolGradTaps(
    tap: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    kh: number,
    sh: number,
    sw: number,
  ): void;
}

/**
 * The kernels bound to one backend's heap. x, y, dy and dx are float32 views of that heap; `tap`
 * is the heap's byte offset of N*OH*OW*C bytes. C is a positive multiple of 4, kh and kw are
 * 1..16, and every window lies inside x.
 */
export interface PoolSimd {
  /**
   * y [N,OH,OW,C] = max pool of x [N,H,W,C] (NaNs skipped, as the CPU backend does), and per
   * output one byte 16*a + k naming the first element (a, k) of its window equal to y (the last
   * one when none is).
   */
  maxPool(
    x: Float32Array,
    xShape: readonly [number, number, number, number],
    g: PoolGeometry,
    outGrid: readonly [number, number],
    y: Float32Array,
    tap: number,
  ): void;
  /** dx [N,H,W,C] = zeros plus each dy [N,OH,OW,C] at its recorded tap, in the order of train-kernels.wat's maxPoolGrad. */
  maxPoolGrad(
    tap: number,
    dy: Float32Array,
    xShape: readonly [number, number, number, number],
    g: PoolGeometry,
    outGrid: readonly [number, number],
    dx: Float32Array,
  ): void;
}

function check([n, h, w, c]: readonly number[], g: PoolGeometry, [oh, ow]: readonly [number, number]): void {
  // Out-of-range geometry would make the kernels read or write outside the tensors.
  const ok =
    c! > 0 &&
    c! % 4 === 0 &&
    n! > 0 &&
    oh > 0 &&
    ow > 0 &&
    g.kh >= 1 &&
    g.kh <= 16 &&
    g.kw >= 1 &&
    g.kw <= 16 &&
    g.sh >= 1 &&
    g.sw >= 1 &&
    (oh - 1) * g.sh + g.kh <= h! &&
    (ow - 1) * g.sw + g.kw <= w!;
  if (!ok) throw new Error(`pool kernels cannot run x [${[n, h, w, c].join(',')}] to ${oh}x${ow}`);
}

/** The kernels on `backend`'s heap (a tfjs wasm backend); null when they cannot run there. */
export const poolSimd = heapModule<Exports, PoolSimd>(new URL('./pool.wasm', import.meta.url), (e, at) => ({
  maxPool(x, xShape, g, outGrid, y, tap) {
    check(xShape, g, outGrid);
    const [n, h, w, c] = xShape;
    if (g.kh === 3 && g.kw === 3) {
      e.maxPool3x3Taps(at(x), at(y), tap, n, h, w, c, outGrid[0], outGrid[1], g.sh, g.sw);
      return;
    }
    e.maxPoolTaps(at(x), at(y), tap, n, h, w, c, outGrid[0], outGrid[1], g.kh, g.kw, g.sh, g.sw);
  },
  maxPoolGrad(tap, dy, xShape, g, outGrid, dx) {
    check(xShape, g, outGrid);
    const [n, h, w, c] = xShape;
    e.maxPoolGradTaps(tap, at(dy), at(dx), n, h, w, c, outGrid[0], outGrid[1], g.kh, g.sh, g.sw);
  },
}));
