// Replacements for WebAssembly-backend kernels that training leans on.
//
// Identity: the engine clones every tensor a gradient saves (inputs and outputs of each op
// on the tape), and the wasm Identity copies the data where the CPU backend shares it. Tensors
// are immutable and the wasm backend reference-counts its buffers (its Reshape shares them
// already), so sharing is safe and removes a full copy of nearly every activation per step.
//
// Sum and Mean over leading axes. Its Sum and Mean reduce only the
// innermost axes, so a per-channel reduction over N,H,W of an NHWC tensor (every bias
// gradient, every batch-norm statistic and its gradient) first transposes the whole tensor.
// Reducing leading axes is an average pool instead: x viewed as [1, R, 1, C] pooled with an
// R x 1 window, which XNNPACK streams through in one pass (over ten times faster than the
// transpose-and-sum; a GEMM with a ones vector is no better, it repacks x as weights).
// Every other reduction goes to the original kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
}

/** Number of leading axes reduced, or 0 when the axes are not a leading run short of all. */
function leadingRun(axis: number | number[], rank: number): number {
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  const leading = axes.every((a, i) => a === i);
  return leading && axes.length < rank ? axes.length : 0;
}

function reduceLeading(original: KernelFunc, avgPool: KernelFunc, isSum: boolean): KernelFunc {
  return (args) => {
    const x = args.inputs['x']!;
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const lead = leadingRun(axis, x.shape.length);
    if (x.dtype !== 'float32' || lead === 0) return original(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const rows = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
    const cols = x.shape.slice(lead).reduce((a, b) => a * b, 1);
    if (rows === 0 || cols === 0) return original(args);
    const pool = (t: TensorInfo, outer: number, inner: number): TensorInfo =>
      avgPool({
        inputs: { x: { ...t, shape: [outer, inner, 1, cols] } },
        backend: args.backend,
        attrs: { filterSize: [inner, 1], strides: [1, 1], pad: 'valid' } as unknown as NamedAttrMap,
      }) as TensorInfo;
    // Average per batch item first, then across the batch: shorter float32 running sums keep
    // the rounding error of a 320k-element reduction near that of a pairwise sum.
    const outer = lead >= 2 ? x.shape[0]! : 1;
    let out = pool(x, outer, rows / outer);
    if (outer > 1) {
      const partial = out;
      out = pool(partial, 1, outer);
      backend.disposeData(partial.dataId);
    }
    if (isSum) {
      const v = backend.typedArrayFromHeap(out);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! * rows;
    }
    const kept = x.shape.slice(lead);
    return { ...out, shape: keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...kept] : kept };
  };
}

const shareIdentity: KernelFunc = (args) => {
  const x = args.inputs['x']!;
  (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let registered = false;

/** Installs the Identity, Sum and Mean replacements on the wasm backend (idempotent). */
export function registerWasmOverrides(): void {
  if (registered) return;
  const identity = tf.getKernel('Identity', 'wasm');
  if (identity === undefined) throw new Error('wasm backend has no Identity kernel; import it first');
  tf.unregisterKernel('Identity', 'wasm');
  // Strings live outside the heap and are copied by the original kernel.
  tf.registerKernel({
    ...identity,
    kernelFunc: (args) =>
      args.inputs['x']!.dtype === 'string' ? identity.kernelFunc(args) : shareIdentity(args),
  });
  const avgPool = tf.getKernel('AvgPool', 'wasm');
  if (avgPool === undefined) throw new Error('wasm backend has no AvgPool kernel; import it first');
  const replace = (name: string, isSum: boolean): void => {
    const original = tf.getKernel(name, 'wasm');
    if (original === undefined) throw new Error(`wasm backend has no ${name} kernel; import it first`);
    tf.unregisterKernel(name, 'wasm');
    const config: KernelConfig = {
      ...original,
      kernelFunc: reduceLeading(original.kernelFunc, avgPool.kernelFunc, isSum),
    };
    tf.registerKernel(config);
  };
  replace('Sum', true);
  replace('Mean', false);
  registered = true;
}
