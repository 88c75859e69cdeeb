// Training on the WebAssembly backend. It ships Conv2D (XNNPACK, fast) but no
// Conv2DBackpropFilter at all, and its Conv2DBackpropInput and MaxPoolGrad are plain loops
// several times slower than the forward pass. So on wasm the gradients of Conv2D and MaxPool
// are expressed with the fast forward kernels instead:
//   - filter gradient: a convolution of the input, batch and channels swapped, with the output
//     gradient as the filter at dilation = stride;
//   - input gradient: a stride-1 convolution of the zero-upsampled output gradient with the
//     filter rotated 180 degrees and its in/out channels swapped (a transposed convolution);
//   - max-pool gradient: routed to each window's first maximum, in plain JavaScript.
// On every other backend the original kernels run, so the CPU backend stays the reference.
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2DAttrs, GradConfig, MaxPoolAttrs, NamedAttrMap } from '@tensorflow/tfjs-core';

type Pads = { top: number; bottom: number; left: number; right: number };

function samePads(inSize: number, stride: number, k: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max(0, (out - 1) * stride + k - inSize);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function padsOf(
  pad: Conv2DAttrs['pad'],
  h: number,
  w: number,
  kh: number,
  kw: number,
  s: [number, number],
): Pads {
  if (pad === 'same') {
    const [top, bottom] = samePads(h, s[0], kh);
    const [left, right] = samePads(w, s[1], kw);
    return { top, bottom, left, right };
  }
  if (pad === 'valid') return { top: 0, bottom: 0, left: 0, right: 0 };
  if (typeof pad === 'number') return { top: pad, bottom: pad, left: pad, right: pad };
  return { top: pad[1]![0]!, bottom: pad[1]![1]!, left: pad[2]![0]!, right: pad[2]![1]! };
}

function stridesOf(strides: number | [number, number]): [number, number] {
  return typeof strides === 'number' ? [strides, strides] : strides;
}

/** dW[kh,kw,ci,co] = sum_{n,oh,ow} x[n, oh*s+kh-top, ow*s+kw-left, ci] * dy[n,oh,ow,co]. */
export function conv2dFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: readonly [number, number, number, number],
  strides: [number, number],
  pads: Pads,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filterShape;
    const [, h, w] = x.shape;
    const [, oh, ow] = dy.shape;
    const [sh, sw] = strides;
    // Rows of x the gradient reads: -top .. (oh-1)*sh + kh - 1 - top.
    const bottom = (oh - 1) * sh + kh - pads.top - h;
    const right = (ow - 1) * sw + kw - pads.left - w;
    // Negative padding means trailing rows no output reads: slice them off instead.
    const xs =
      bottom < 0 || right < 0
        ? tf.slice(x, [0, 0, 0, 0], [-1, h + Math.min(0, bottom), w + Math.min(0, right), -1])
        : x;
    const xT = tf.transpose(xs, [3, 1, 2, 0]); // Ci, H, W, N
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // OH, OW, N, Co
    const out = tf.conv2d(
      xT,
      dyT,
      1,
      [
        [0, 0],
        [pads.top, Math.max(0, bottom)],
        [pads.left, Math.max(0, right)],
        [0, 0],
      ],
      'NHWC',
      [sh, sw],
    );
    return tf.transpose(out, [1, 2, 0, 3]);
  });
}

/** Zero-upsampling: [N,H,W,C] -> [N,(H-1)*sh+1,(W-1)*sw+1,C] with dy at every stride-th place. */
function dilate(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spaced = tf.pad(tf.reshape(dy, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return tf.slice(
    tf.reshape(spaced, [n, h * sh, w * sw, c]) as tf.Tensor4D,
    [0, 0, 0, 0],
    [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c],
  );
}

export function conv2dInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  inShape: readonly [number, number, number, number],
  strides: [number, number],
  pads: Pads,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const [, h, w] = inShape;
    const [, oh, ow] = dy.shape;
    const [sh, sw] = strides;
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]); // KH, KW, Co, Ci
    const top = kh - 1 - pads.top;
    const left = kw - 1 - pads.left;
    const bottom = h - 1 + pads.top - (oh - 1) * sh;
    const right = w - 1 + pads.left - (ow - 1) * sw;
    let d = dilate(dy, sh, sw);
    // Negative amounts crop instead of pad (possible with explicit or 'valid' padding).
    const crop = [Math.max(0, -top), Math.max(0, -bottom), Math.max(0, -left), Math.max(0, -right)] as const;
    if (crop.some((v) => v > 0)) {
      d = tf.slice(
        d,
        [0, crop[0], crop[2], 0],
        [-1, d.shape[1] - crop[0] - crop[1], d.shape[2] - crop[2] - crop[3], -1],
      );
    }
    return tf.conv2d(
      d,
      flipped,
      1,
      [
        [0, 0],
        [Math.max(0, top), Math.max(0, bottom)],
        [Math.max(0, left), Math.max(0, right)],
        [0, 0],
      ],
      'NHWC',
    );
  });
}

/** Max-pool gradient: each output's gradient goes to the first maximum of its window. */
function maxPoolGrad(dy: tf.Tensor4D, x: tf.Tensor4D, attrs: MaxPoolAttrs): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = dy.shape;
  const [kh, kw] =
    typeof attrs.filterSize === 'number' ? [attrs.filterSize, attrs.filterSize] : attrs.filterSize;
  const [sh, sw] = stridesOf(attrs.strides);
  const p = padsOf(attrs.pad, h, w, kh, kw, [sh, sw]);
  const xv = x.dataSync() as Float32Array;
  const dyv = dy.dataSync() as Float32Array;
  const dx = new Float32Array(xv.length);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      const r0 = Math.max(0, i * sh - p.top);
      const r1 = Math.min(h, i * sh - p.top + kh);
      for (let j = 0; j < ow; j++) {
        const c0 = Math.max(0, j * sw - p.left);
        const c1 = Math.min(w, j * sw - p.left + kw);
        const outBase = ((b * oh + i) * ow + j) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let r = r0; r < r1; r++) {
            let idx = ((b * h + r) * w + c0) * c + ch;
            for (let q = c0; q < c1; q++, idx += c) {
              const v = xv[idx]!;
              if (v > best) {
                best = v;
                at = idx;
              }
            }
          }
          if (at >= 0) dx[at] = dx[at]! + dyv[outBase + ch]!;
        }
      }
    }
  }
  return tf.tensor4d(dx, [n, h, w, c]);
}

function onWasm(): boolean {
  return tf.getBackend() === 'wasm';
}

function conv2dGradConfig(): GradConfig {
  return {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dyIn: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const dy = dyIn as tf.Tensor4D;
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as Conv2DAttrs;
      const strides = stridesOf(a.strides);
      const [kh, kw] = filter.shape;
      const pads = padsOf(a.pad, x.shape[1], x.shape[2], kh, kw, strides);
      const dilations = typeof a.dilations === 'number' ? [a.dilations, a.dilations] : a.dilations;
      const plain = a.dataFormat === 'NHWC' && dilations.every((d) => d === 1);
      if (onWasm() && plain) {
        return {
          x: () => conv2dInputGrad(dy, filter, x.shape, strides, pads),
          filter: () => conv2dFilterGrad(x, dy, filter.shape, strides, pads),
        };
      }
      const kernelAttrs = {
        strides,
        pad: a.pad,
        dataFormat: a.dataFormat,
        dimRoundingMode: a.dimRoundingMode,
      };
      return {
        x: () =>
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, {
            ...kernelAttrs,
            inputShape: x.shape,
          } as unknown as NamedAttrMap) as tf.Tensor4D,
        filter: () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
            ...kernelAttrs,
            filterShape: filter.shape,
          } as unknown as NamedAttrMap) as tf.Tensor4D,
      };
    },
  };
}

function maxPoolGradConfig(): GradConfig {
  return {
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dyIn: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const dy = dyIn as tf.Tensor4D;
      const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D];
      const a = attrs as unknown as MaxPoolAttrs;
      if (onWasm()) return { x: () => maxPoolGrad(dy, x, a) };
      return {
        x: () =>
          tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, {
            filterSize: a.filterSize,
            strides: a.strides,
            pad: a.pad,
            dimRoundingMode: a.dimRoundingMode,
          } as unknown as NamedAttrMap) as tf.Tensor4D,
      };
    },
  };
}

let registered = false;

/** Installs the wasm-aware Conv2D and MaxPool gradients (idempotent). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  // registerGradient warns when it replaces a gradient; this replacement is deliberate.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient(conv2dGradConfig());
    tf.registerGradient(maxPoolGradConfig());
  } finally {
    console.warn = warn;
  }
  registered = true;
}
