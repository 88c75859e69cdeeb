// The WebAssembly backend ships Conv2D and Conv2DBackpropInput but not Conv2DBackpropFilter,
// so it cannot train a CNN. The filter gradient is itself a convolution: correlate the input,
// with batch and channels swapped, against the output gradient dilated by the stride.
//   dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-pt, ow*s+kw-pl, ci] * dy[n,oh,ow,co]
// Treating ci as the batch and n as the input channel makes that a stride-1 convolution of
// x^T [Ci,H,W,N] with filter dy^T [OH,OW,N,Co] at dilation s, whose output is [Ci,KH,KW,Co].
import * as tf from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelConfig,
  NamedTensorInfoMap,
} from '@tensorflow/tfjs-core';

export function conv2dBackpropFilterViaConv(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: readonly [number, number, number, number],
  strides: readonly [number, number],
  pads: { top: number; left: number },
): tf.Tensor4D {
  const [kh, kw] = filterShape;
  const [, h, w] = x.shape;
  const [, oh, ow] = dy.shape;
  const [sh, sw] = strides;
  // Rows of x the gradient touches: from -top to (oh-1)*sh + kh - 1 - top.
  const bottom = (oh - 1) * sh + kh - pads.top - h;
  const right = (ow - 1) * sw + kw - pads.left - w;
  const temps: tf.Tensor[] = [];
  // Negative padding means trailing rows no output reads: slice them off instead.
  let xs: tf.Tensor4D = x;
  if (bottom < 0 || right < 0) {
    xs = tf.slice(x, [0, 0, 0, 0], [-1, h + Math.min(0, bottom), w + Math.min(0, right), -1]);
    temps.push(xs);
  }
  const xT = tf.transpose(xs, [3, 1, 2, 0]);
  const dyT = tf.transpose(dy, [1, 2, 0, 3]);
  const padSpec: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [pads.top, Math.max(0, bottom)],
    [pads.left, Math.max(0, right)],
    [0, 0],
  ];
  const out = tf.conv2d(xT, dyT, 1, padSpec, 'NHWC', [sh, sw]);
  temps.push(xT, dyT, out);
  const result = tf.transpose(out, [1, 2, 0, 3]);
  // Manual disposal, not tidy: the result must stay an ordinary tensor of the caller's scope.
  for (const t of temps) t.dispose();
  return result;
}

function samePads(inSize: number, stride: number, k: number): number {
  const out = Math.ceil(inSize / stride);
  return Math.floor(Math.max(0, (out - 1) * stride + k - inSize) / 2);
}

const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs }) => {
    const { x, dy } = inputs as unknown as Conv2DBackpropFilterInputs & NamedTensorInfoMap;
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    if (a.dataFormat !== 'NHWC')
      throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${a.dataFormat}`);
    const strides: [number, number] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
    const [kh, kw] = a.filterShape;
    if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
    const xt = tf.engine().makeTensorFromTensorInfo(x) as tf.Tensor4D;
    const dyt = tf.engine().makeTensorFromTensorInfo(dy) as tf.Tensor4D;
    let pads: { top: number; left: number };
    if (a.pad === 'same') {
      pads = { top: samePads(xt.shape[1], strides[0], kh), left: samePads(xt.shape[2], strides[1], kw) };
    } else if (a.pad === 'valid') {
      pads = { top: 0, left: 0 };
    } else if (typeof a.pad === 'number') {
      pads = { top: a.pad, left: a.pad };
    } else {
      pads = { top: a.pad[1]![0]!, left: a.pad[2]![0]! };
    }
    const result = conv2dBackpropFilterViaConv(xt, dyt, a.filterShape, strides, pads);
    // Handles made for the inputs share their data; disposing them drops only our references.
    xt.dispose();
    dyt.dispose();
    // A returned Tensor (not a bare TensorInfo) is adopted by the engine as the kernel's output.
    return result;
  },
};

let registered = false;
export function registerWasmTrainingKernels(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) return;
  tf.registerKernel(conv2dBackpropFilterConfig);
  registered = true;
}
