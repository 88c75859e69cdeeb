// Loader for train-kernels.wasm: WebAssembly SIMD kernels that run on the tfjs wasm backend's
// own heap (see heap-module.ts), so a kernel reads its operands where tfjs keeps them and
// writes into tensors tfjs allocated: no copies in or out (a copy of conv1's 20 MB output
// gradient alone costs several milliseconds). When they cannot run, `trainSimd` returns null
// and the JavaScript and XNNPACK paths do the work.
import { heapModule } from './heap-module.ts';

interface Exports {
  filterGradC1x32(
    x: number,
    dy: number,
    out: number,
    scratch: number,
    n: number,
    h: number,
    w: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
  im2colT(
    x: number,
    out: number,
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
    top: number,
    left: number,
  ): void;
  maxPoolGrad(
    x: number,
    y: number,
    dy: number,
    dx: number,
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
  placePhase(
    src: number,
    dst: number,
    n: number,
    rows: number,
    cols: number,
    cb: number,
    srcImg: number,
    srcRow: number,
    dstImg: number,
    dstRow: number,
    dstPix: number,
  ): void;
}

/** Where a block of whole pixels goes: counts, and float strides between images, rows and pixels. */
export interface PixelBlockCopy {
  readonly images: number;
  readonly rows: number;
  readonly cols: number;
  /** Floats per pixel, a multiple of 4; pixels are contiguous in the source. */
  readonly c: number;
  readonly srcImage: number;
  readonly srcRow: number;
  readonly dstImage: number;
  readonly dstRow: number;
  readonly dstPixel: number;
}

/** Geometry of a max pool whose windows all lie inside x. */
export interface PoolGeometry {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
}

/** Geometry of a convolution's filter gradient, as im2col takes it (gradients.ts). */
export interface FilterGradGeometry extends PoolGeometry {
  readonly top: number;
  readonly left: number;
}

/** The kernels bound to one backend's heap. Arguments are views of that heap. */
export interface TrainSimd {
  /**
   * dW [KH,KW,1,32] of a convolution with one input channel and 32 output channels, from
   * x [N,H,W,1] and dy [N,OH,OW,32]; `scratch` holds KH*KW*32 floats the kernel may overwrite.
   */
  filterGradC1x32(
    x: Float32Array,
    xShape: readonly [number, number, number, number],
    dy: Float32Array,
    dyShape: readonly [number, number, number, number],
    g: FilterGradGeometry,
    out: Float32Array,
    scratch: Float32Array,
  ): void;
  /**
   * Transposed im2col on the plain OH x OW grid: x [N,H,W,C], C a multiple of 4, into out
   * [KH*KW*C, N*OH*OW] (see im2colT in gradient-kernels.ts and train-kernels.wat).
   */
  im2colT(
    x: Float32Array,
    xShape: readonly [number, number, number, number],
    g: FilterGradGeometry,
    outGrid: readonly [number, number],
    out: Float32Array,
  ): void;
  /** dx [N,H,W,C] of a max pool without padding, C a multiple of 4 (see train-kernels.wat). */
  maxPoolGrad(
    x: Float32Array,
    xShape: readonly [number, number, number, number],
    y: Float32Array,
    dy: Float32Array,
    dyShape: readonly [number, number, number, number],
    g: PoolGeometry,
    dx: Float32Array,
  ): void;
  /**
   * Copies a block of pixels from `src` (starting at float `srcAt`) to `dst` (at `dstAt`), pixel
   * by pixel with the strides of `copy`: one stride phase into a strided input gradient.
   */
  placePhase(src: Float32Array, srcAt: number, dst: Float32Array, dstAt: number, copy: PixelBlockCopy): void;
}

/**
 * The kernels on `backend`'s heap (a tfjs wasm backend), instantiated once per heap; null when
 * they cannot run there.
 */
export const trainSimd = heapModule<Exports, TrainSimd>(
  new URL('./train-kernels.wasm', import.meta.url),
  (e, at) => ({
    filterGradC1x32(x, [n, h, w], dy, [, oh, ow], g, out, scratch) {
      e.filterGradC1x32(
        at(x),
        at(dy),
        at(out),
        at(scratch),
        n,
        h,
        w,
        oh,
        ow,
        g.kh,
        g.kw,
        g.sh,
        g.sw,
        g.top,
        g.left,
      );
    },
    im2colT(x, [n, h, w, c], g, [oh, ow], out) {
      e.im2colT(at(x), at(out), n, h, w, c, oh, ow, g.kh, g.kw, g.sh, g.sw, g.top, g.left);
    },
    maxPoolGrad(x, [n, h, w, c], y, dy, [, oh, ow], g, dx) {
      e.maxPoolGrad(at(x), at(y), at(dy), at(dx), n, h, w, c, oh, ow, g.kh, g.kw, g.sh, g.sw);
    },
    placePhase(src, srcAt, dst, dstAt, k) {
      if (k.c % 4 !== 0) throw new Error(`placePhase needs whole f32x4 pixels, got ${k.c} floats`);
      e.placePhase(
        at(src) + 4 * srcAt,
        at(dst) + 4 * dstAt,
        k.images,
        k.rows,
        k.cols,
        4 * k.c,
        4 * k.srcImage,
        4 * k.srcRow,
        4 * k.dstImage,
        4 * k.dstRow,
        4 * k.dstPixel,
      );
    },
  }),
);
