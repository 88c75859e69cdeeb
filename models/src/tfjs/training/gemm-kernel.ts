// The SIMD matrix product of simd/gemm.wat as a tfjs kernel of the wasm backend, for the
// filter gradients of convolutions: [K, P] patches @ [P, Co] output gradient. It reads both
// operands where the backend keeps them and writes into an output tensor allocated there;
// XNNPACK's BatchMatMul, which it replaces for these products, repacks the [P, Co] operand on
// every call.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { heapKernel, runKernel } from './heap-backend.ts';
import { gemmSimd } from './simd/gemm.ts';

const GEMM = 'FadnetGemm';

/** The kernel of this file, for register.ts. */
export function gemmKernel(): KernelConfig {
  return heapKernel(GEMM, (inputs, _attrs, b) => {
    const simd = gemmSimd(b.backend);
    if (simd === null) throw new Error(`${GEMM} needs WebAssembly SIMD; check hasGemmSimd() first`);
    const lhs = inputs['a']!;
    const rhs = inputs['b']!;
    const [k, p] = lhs.shape as [number, number];
    const co = rhs.shape[1]!;
    const out = b.makeOutput([k, co]);
    try {
      // Views taken after the allocation: it may grow the heap and detach older ones.
      simd.gemm(b.view(lhs), b.view(rhs), b.view(out), k, p, co);
    } catch (e) {
      b.disposeData(out.dataId);
      throw e;
    }
    return out;
  });
}

/** Whether gemmOp runs on the current backend for `co` output columns (the wasm backend, SIMD). */
export function hasGemmSimd(co: number): boolean {
  return (
    co > 0 &&
    co % 4 === 0 &&
    tf.getBackend() === 'wasm' &&
    tf.getKernel(GEMM, 'wasm') !== undefined &&
    gemmSimd(tf.backend()) !== null
  );
}

/**
 * a [K, P] @ b [P, Co] in float32, positions summed in blocks; only where hasGemmSimd(Co) and
 * both are float32.
 */
export function gemmOp(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape[1] !== b.shape[0]) throw new Error(`gemmOp: [${a.shape.join(',')}] @ [${b.shape.join(',')}]`);
  return runKernel(GEMM, { a, b });
}
