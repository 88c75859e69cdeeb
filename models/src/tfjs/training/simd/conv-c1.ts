// Loader for conv-c1.wasm: the forward convolution of a one-channel input (the network's conv1)
// with WebAssembly SIMD, on the tfjs wasm backend's heap (see heap-module.ts and conv-c1.wat).
import { heapModule } from './heap-module.ts';
import type { FilterGradGeometry } from './train-simd.ts';

interface Exports {
  convC1(
    x: number,
    f: number,
    bias: number,
    out: number,
    n: number,
    h: number,
    w: number,
    co: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    top: number,
    left: number,
  ): void;
}

/** Window, strides and the padding before the first row and column, as conv-c1.wat takes them. */
export type ConvC1Geometry = FilterGradGeometry;

/** The kernel bound to one backend's heap. Arguments are views of that heap. */
export interface ConvC1 {
  /**
   * out [N,OH,OW,CO] = conv(x [N,H,W,1], f [KH,KW,1,CO]) + bias [CO], x zero outside its
   * bounds; CO a multiple of 4, every dimension positive.
   */
  conv(
    x: Float32Array,
    xShape: readonly [number, number, number, number],
    f: Float32Array,
    co: number,
    bias: Float32Array,
    g: ConvC1Geometry,
    outGrid: readonly [number, number],
    out: Float32Array,
  ): void;
}

/** The kernel on `backend`'s heap (a tfjs wasm backend); null when it cannot run there. */
export const convC1 = heapModule<Exports, ConvC1>(new URL('./conv-c1.wasm', import.meta.url), (e, at) => ({
  conv(x, [n, h, w], f, co, bias, g, [oh, ow], out) {
    // The kernel works in whole f32x4 vectors of channels.
    if (co % 4 !== 0 || co <= 0) throw new Error(`convC1 needs a positive multiple of 4 channels, got ${co}`);
    e.convC1(at(x), at(f), at(bias), at(out), n, h, w, co, oh, ow, g.kh, g.kw, g.sh, g.sw, g.top, g.left);
  },
}));
