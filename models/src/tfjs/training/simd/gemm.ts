// Loader for gemm.wasm: a float32 matrix product with WebAssembly SIMD on the tfjs wasm
// backend's heap (see heap-module.ts and gemm.wat), used for convolution filter gradients.
import { heapModule } from './heap-module.ts';

interface Exports {
  gemm(a: number, b: number, c: number, k: number, p: number, co: number, pblk: number): void;
}

/**
 * Positions summed in registers before a tile's sums are added into c: long enough that the
 * adds into c cost little, short enough that rounding stays near a blocked sum's.
 */
const POSITION_BLOCK = 256;

/** The kernel bound to one backend's heap. */
export interface GemmSimd {
  /**
   * c [k, co] = a [k, p] @ b [p, co], all row-major float32 views of the heap; co a positive
   * multiple of 4, k and p positive.
   */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, k: number, p: number, co: number): void;
}

/** The kernel on `backend`'s heap (a tfjs wasm backend); null when it cannot run there. */
export const gemmSimd = heapModule<Exports, GemmSimd>(new URL('./gemm.wasm', import.meta.url), (e, at) => ({
  gemm(a, b, c, k, p, co) {
    // Wrong sizes would make the kernel read or write outside the tensors.
    const ok =
      Number.isInteger(k) &&
      Number.isInteger(p) &&
      k > 0 &&
      p > 0 &&
      co > 0 &&
      co % 4 === 0 &&
      a.length >= k * p &&
      b.length >= p * co &&
      c.length >= k * co;
    if (!ok) throw new Error(`gemm kernel cannot run [${k},${p}] @ [${p},${co}]`);
    e.gemm(at(a), at(b), at(c), k, p, co, POSITION_BLOCK);
  },
}));
