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
//
// FusedConv2D of a one-channel input (the network's conv1): XNNPACK runs it at about half its
// usual rate, since one input channel leaves its GEMM a depth of only kh*kw; a direct SIMD
// kernel (simd/conv-c1.wat) computes it in place on the heap instead. Other convolutions,
// activations other than linear, dilation and every runtime where the kernel cannot run go to
// the original kernel.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type {
  FusedConv2DAttrs,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { convC1 } from './simd/conv-c1.ts';

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

/** FusedConv2D with the one-channel SIMD kernel where it applies, else `original`. */
function fusedConvC1(original: KernelFunc): KernelFunc {
  return (args) => {
    // Absent optional inputs arrive as undefined or null depending on the caller.
    const inputs = args.inputs as Record<string, TensorInfo | null | undefined>;
    const { x, filter, preluActivationWeights } = inputs;
    const bias = inputs['bias'] ?? undefined;
    const a = args.attrs as unknown as FusedConv2DAttrs;
    if (
      x === undefined ||
      x === null ||
      filter === undefined ||
      filter === null ||
      x.dtype !== 'float32' ||
      filter.dtype !== 'float32' ||
      x.shape.length !== 4 ||
      filter.shape.length !== 4 ||
      x.shape[3] !== 1 ||
      filter.shape[2] !== 1 ||
      filter.shape[3]! % 4 !== 0 ||
      a.dataFormat !== 'NHWC' ||
      a.activation !== 'linear' ||
      (preluActivationWeights !== undefined && preluActivationWeights !== null) ||
      (bias !== undefined &&
        (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== filter.shape[3]))
    ) {
      return original(args);
    }
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      a.strides,
      a.dilations,
      a.pad,
      a.dimRoundingMode,
    );
    const simd = convC1(args.backend);
    if (
      simd === null ||
      info.dilationHeight !== 1 ||
      info.dilationWidth !== 1 ||
      info.outChannels === 0 ||
      info.outShape.some((d) => d <= 0)
    ) {
      return original(args);
    }
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput(info.outShape, 'float32');
    // A convolution without bias adds zeros: one kernel for both cases, at the cost of co floats.
    const zeros = bias === undefined ? backend.makeOutput([info.outChannels], 'float32') : undefined;
    try {
      // Views taken after every allocation: an allocation may grow the heap and detach older ones.
      const biasView = backend.typedArrayFromHeap(zeros ?? bias!);
      if (zeros !== undefined) biasView.fill(0);
      simd.conv(
        backend.typedArrayFromHeap(x),
        x.shape as [number, number, number, number],
        backend.typedArrayFromHeap(filter),
        info.outChannels,
        biasView,
        {
          kh: info.filterHeight,
          kw: info.filterWidth,
          sh: info.strideHeight,
          sw: info.strideWidth,
          top: info.padInfo.top,
          left: info.padInfo.left,
        },
        [info.outHeight, info.outWidth],
        backend.typedArrayFromHeap(out),
      );
    } catch (e) {
      backend.disposeData(out.dataId);
      throw e;
    } finally {
      if (zeros !== undefined) backend.disposeData(zeros.dataId);
    }
    return out;
  };
}

let registered = false;

/** Installs the Identity, Sum, Mean and FusedConv2D replacements on the wasm backend (idempotent). */
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
  const fusedConv = tf.getKernel('FusedConv2D', 'wasm');
  if (fusedConv === undefined) throw new Error('wasm backend has no FusedConv2D kernel; import it first');
  tf.unregisterKernel('FusedConv2D', 'wasm');
  // The original's setupFunc stays: the fallback calls into the backend through it.
  tf.registerKernel({ ...fusedConv, kernelFunc: fusedConvC1(fusedConv.kernelFunc) });
  registered = true;
}
