// The SIMD matrix product of simd/gemm.wat as a tfjs kernel of the wasm backend, for the
// filter gradients of convolutions: [K, P] patches @ [P, Co] output gradient. It reads both
// operands where the backend keeps them and writes into an output tensor allocated there;
// XNNPACK's BatchMatMul, which it replaces for these products, repacks the [P, Co] operand on
// every call.
import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { gemmSimd } from './simd/gemm.ts';

/** The part of the wasm backend the kernel uses (public methods of BackendWasm). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
}

const GEMM = 'FadnetGemm';

let registered = false;

/** Registers the kernel on the wasm backend (idempotent). */
export function registerGemmKernels(): void {
  if (registered) return;
  tf.registerKernel({
    kernelName: GEMM,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as HeapBackend;
      const simd = gemmSimd(backend);
      if (simd === null) throw new Error(`${GEMM} needs WebAssembly SIMD; check hasGemmSimd() first`);
      const lhs = inputs['a']!;
      const rhs = inputs['b']!;
      const [k, p] = lhs.shape as [number, number];
      const co = rhs.shape[1]!;
      const out = b.makeOutput([k, co], 'float32');
      try {
        // Views taken after the allocation: it may grow the heap and detach older ones.
        simd.gemm(b.typedArrayFromHeap(lhs), b.typedArrayFromHeap(rhs), b.typedArrayFromHeap(out), k, p, co);
      } catch (e) {
        b.disposeData(out.dataId);
        throw e;
      }
      return out;
    },
  });
  registered = true;
}

/** Whether gemmOp runs on the current backend for `co` output columns (the wasm backend, SIMD). */
export function hasGemmSimd(co: number): boolean {
  if (co <= 0 || co % 4 !== 0 || tf.getBackend() !== 'wasm' || gemmSimd(tf.backend()) === null) return false;
  registerGemmKernels();
  return true;
}

/**
 * a [K, P] @ b [P, Co] in float32, positions summed in blocks; only where hasGemmSimd(Co) and
 * both are float32.
 */
export function gemmOp(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape[1] !== b.shape[0]) throw new Error(`gemmOp: [${a.shape.join(',')}] @ [${b.shape.join(',')}]`);
  return tf.engine().runKernel(GEMM, { a, b }) as tf.Tensor2D;
}
