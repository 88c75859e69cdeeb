// Max pool on the WebAssembly backend with its gradient's work moved into the forward pass.
//
// The gradient of a max pool gives each output's gradient to the first maximum of its window.
// Found from x and y in the backward pass (train-kernels.wat's maxPoolGrad), that reads all of
// x once per tap, and for conv1's pool x is the network's largest activation. The MaxPool
// replacement here (simd/pool.wat) has each window in registers anyway, so besides y it writes
// one byte per output naming that tap; the gradient then reads the bytes and dy, zeroes dx and
// adds each gradient at its tap.
//
// The bytes live in y's own allocation, just past its floats: the tensor's shape and the size
// the backend registers are y's, so nothing else sees them, and they are freed with y. A
// WeakMap keyed by y's dataId says which outputs carry them and for what geometry; the gradient
// finds them through the saved y, which shares y's dataId (Identity shares buffers on wasm, see
// stock-overrides.ts). Where any of that does not hold (another geometry, padding, channel
// counts not a multiple of 4, no SIMD or no heap access), the original MaxPool runs and the
// gradient keeps its other path. y has the CPU backend's values (NaNs skipped); XNNPACK's may
// differ only where a window holds a NaN.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, MaxPoolAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { attrsAs, heapBackend, heapKernel, runKernel } from './heap-backend.ts';
import { poolSimd, type PoolGeometry } from './simd/pool.ts';

interface Taps {
  /** Heap byte offset of the tap bytes, one per element of y. */
  readonly at: number;
  readonly xShape: readonly [number, number, number, number];
  readonly g: PoolGeometry;
}

const tapsOf = new WeakMap<object, Taps>();

/** The pool's geometry when the SIMD kernels can run it (float32, C % 4 == 0, windows inside x), else null. */
function simdGeometry(x: TensorInfo, a: MaxPoolAttrs): backend_util.Conv2DInfo | null {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || x.shape[3]! % 4 !== 0) return null;
  const info = backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const inside =
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight > 0 &&
    info.outWidth > 0 &&
    info.batchSize > 0 &&
    info.inChannels > 0 &&
    (info.outHeight - 1) * info.strideHeight + info.filterHeight <= info.inHeight &&
    (info.outWidth - 1) * info.strideWidth + info.filterWidth <= info.inWidth;
  const small = info.filterHeight <= 16 && info.filterWidth <= 16;
  return inside && small && info.dilationHeight === 1 && info.dilationWidth === 1 ? info : null;
}

function maxPoolWithTaps(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs['x']!;
    const info = simdGeometry(x, attrsAs<MaxPoolAttrs>(args.attrs));
    const simd = info === null ? null : poolSimd(args.backend);
    if (info === null || simd === null) return original(args);
    const backend = heapBackend(args.backend);
    const size = info.outShape.reduce((p, d) => p * d, 1);
    // y's floats, then its tap bytes; the backend frees the block with y.
    const base = backend.malloc(size * 5);
    if (base === 0) return original(args);
    let out: TensorInfo;
    try {
      out = backend.makeOutput(info.outShape, base);
    } catch (e) {
      backend.free(base);
      throw e;
    }
    const xShape = x.shape as [number, number, number, number];
    const g: PoolGeometry = {
      kh: info.filterHeight,
      kw: info.filterWidth,
      sh: info.strideHeight,
      sw: info.strideWidth,
    };
    try {
      // Views taken after every allocation: an allocation may grow the heap and detach older ones.
      simd.maxPool(
        backend.view(x),
        xShape,
        g,
        [info.outHeight, info.outWidth],
        backend.view(out),
        base + size * 4,
      );
    } catch (e) {
      backend.disposeData(out.dataId);
      throw e;
    }
    tapsOf.set(out.dataId, { at: base + size * 4, xShape, g });
    return out;
  };
}

const MAX_POOL_GRAD_TAPS = 'FadnetMaxPoolGradTaps';

const gradFromTaps = heapKernel(MAX_POOL_GRAD_TAPS, (inputs, _attrs, b) => {
  const dy = inputs['dy']!;
  const y = inputs['y']!;
  const taps = tapsOf.get(y.dataId);
  const simd = poolSimd(b.backend);
  if (taps === undefined || simd === null) throw new Error(`${MAX_POOL_GRAD_TAPS}: y carries no taps`);
  const dx = b.makeOutput([...taps.xShape]);
  try {
    simd.maxPoolGrad(taps.at, b.view(dy), taps.xShape, taps.g, [dy.shape[1]!, dy.shape[2]!], b.view(dx));
  } catch (e) {
    b.disposeData(dx.dataId);
    throw e;
  }
  return dx;
});

/**
 * The gradient of `y = maxPool(x)` from the taps the forward pass recorded, or null when y
 * carries none for this geometry (the caller then takes its other path). x and y must be the
 * pool's saved input and output.
 */
export function maxPoolGradFromTaps(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  attrs: MaxPoolAttrs,
): tf.Tensor4D | null {
  const taps = tapsOf.get(y.dataId);
  if (taps === undefined || tf.getBackend() !== 'wasm') return null;
  const info = simdGeometry(x, attrs);
  const same =
    info !== null &&
    taps.xShape.every((d, i) => d === x.shape[i]) &&
    taps.g.kh === info.filterHeight &&
    taps.g.kw === info.filterWidth &&
    taps.g.sh === info.strideHeight &&
    taps.g.sw === info.strideWidth &&
    dy.shape.every((d, i) => d === y.shape[i]) &&
    dy.dtype === 'float32';
  if (!same) return null;
  return runKernel<tf.Tensor4D>(MAX_POOL_GRAD_TAPS, { dy, y });
}

/**
 * The replacement of the stock wasm MaxPool that records taps (the original as its fallback),
 * and the new gradient kernel that reads them; register.ts installs both.
 */
export function maxPoolTapsKernels(original: KernelConfig): {
  replacement: KernelConfig;
  added: KernelConfig;
} {
  // The original's setupFunc stays: the fallback calls into the backend through it.
  return {
    replacement: { ...original, kernelFunc: maxPoolWithTaps(original.kernelFunc) },
    added: gradFromTaps,
  };
}
