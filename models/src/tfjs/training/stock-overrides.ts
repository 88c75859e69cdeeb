// Replacements for stock kernels of the WebAssembly backend (tfjs's own Identity, Sum, Mean and
// FusedConv2D, each kept as the fallback of its replacement) that training leans on. Installed
// by register.ts with the rest of the training kernels, never for inference.
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
import { backend_util } from '@tensorflow/tfjs-core';
import type { FusedConv2DAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { attrsAs, heapBackend } from './heap-backend.ts';
import { convC1 } from './simd/conv-c1.ts';

/** Number of leading axes reduced, or 0 when the axes are not a leading run short of all. */
function leadingRun(axis: number | number[], rank: number): number {
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  const leading = axes.every((a, i) => a === i);
  return leading && axes.length < rank ? axes.length : 0;
}

function reduceLeading(original: KernelFunc, avgPool: KernelFunc, isSum: boolean): KernelFunc {
  return (args) => {
    const x = args.inputs['x']!;
    const { axis, keepDims } = attrsAs<{ axis: number | number[]; keepDims: boolean }>(args.attrs);
    const lead = leadingRun(axis, x.shape.length);
    if (x.dtype !== 'float32' || lead === 0) return original(args);
    const backend = heapBackend(args.backend);
    const rows = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
    const cols = x.shape.slice(lead).reduce((a, b) => a * b, 1);
    if (rows === 0 || cols === 0) return original(args);
    const pool = (t: TensorInfo, outer: number, inner: number): TensorInfo =>
      avgPool({
        inputs: { x: { ...t, shape: [outer, inner, 1, cols] } },
        backend: args.backend,
        attrs: { filterSize: [inner, 1], strides: [1, 1], pad: 'valid' },
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
      const v = backend.view(out);
      for (let i = 0; i < v.length; i++) v[i] = v[i]! * rows;
    }
    const kept = x.shape.slice(lead);
    return { ...out, shape: keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...kept] : kept };
  };
}

const shareIdentity: KernelFunc = (args) => {
  const x = args.inputs['x']!;
  heapBackend(args.backend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** FusedConv2D with the one-channel SIMD kernel where it applies, else `original`. */
function fusedConvC1(original: KernelFunc): KernelFunc {
  return (args) => {
    // Absent optional inputs arrive as undefined or null depending on the caller.
    const inputs = args.inputs as Record<string, TensorInfo | null | undefined>;
    const { x, filter, preluActivationWeights } = inputs;
    const bias = inputs['bias'] ?? undefined;
    const a = attrsAs<FusedConv2DAttrs>(args.attrs);
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
    const backend = heapBackend(args.backend);
    const out = backend.makeOutput(info.outShape);
    // A convolution without bias adds zeros: one kernel for both cases, at the cost of co floats.
    const zeros = bias === undefined ? backend.makeOutput([info.outChannels]) : undefined;
    try {
      // Views taken after every allocation: an allocation may grow the heap and detach older ones.
      const biasView = backend.view(zeros ?? bias!);
      if (zeros !== undefined) biasView.fill(0);
      simd.conv(
        backend.view(x),
        x.shape as [number, number, number, number],
        backend.view(filter),
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
        backend.view(out),
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

/**
 * The replacements of the stock wasm Identity, Sum, Mean and FusedConv2D kernels, each calling
 * the original (from `stock`) where it does not apply; register.ts installs them.
 */
export function stockOverrides(stock: (kernelName: string) => KernelConfig): KernelConfig[] {
  const identity = stock('Identity');
  const avgPool = stock('AvgPool');
  const reduce = (name: string, isSum: boolean): KernelConfig => {
    const original = stock(name);
    return { ...original, kernelFunc: reduceLeading(original.kernelFunc, avgPool.kernelFunc, isSum) };
  };
  const fusedConv = stock('FusedConv2D');
  return [
    {
      ...identity,
      // Strings live outside the heap and are copied by the original kernel.
      kernelFunc: (args) =>
        args.inputs['x']!.dtype === 'string' ? identity.kernelFunc(args) : shareIdentity(args),
    },
    reduce('Sum', true),
    reduce('Mean', false),
    // The original's setupFunc stays: the fallback calls into the backend through it.
    { ...fusedConv, kernelFunc: fusedConvC1(fusedConv.kernelFunc) },
  ];
}
