// The gradients of Conv2D and MaxPool for training on the WebAssembly backend, registered by
// register.ts in place of tfjs's own (which stay in use on every other backend). It ships Conv2D (XNNPACK, fast) but no
// Conv2DBackpropFilter at all, and its Conv2DBackpropInput and MaxPoolGrad are plain loops
// several times slower than the forward pass. So on wasm the gradients of Conv2D and MaxPool
// are expressed with the fast forward kernels instead:
//   - filter gradient: a convolution of the input, batch and channels swapped, with the output
//     gradient as the filter at dilation = stride;
//   - input gradient: a stride-1 convolution of the zero-upsampled output gradient with the
//     filter rotated 180 degrees and its in/out channels swapped (a transposed convolution);
//   - max-pool gradient: routed to each window's first maximum, in plain JavaScript.
// The new kernels these gradients call are in gradient-kernels.ts; where the WebAssembly SIMD
// kernels of simd/ can run on the backend's heap, conv1's filter gradient (one input channel,
// 32 output channels) and the max-pool gradient use them instead.
// On every other backend the original kernels run, so the CPU backend stays the reference.
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2DAttrs, GradConfig, MaxPoolAttrs, NamedAttrMap } from '@tensorflow/tfjs-core';
import {
  filterGradC1x32Op,
  hasSimdIm2col,
  hasTrainSimd,
  im2colGrid,
  im2colTOp,
  phaseGrid,
  interleaveOp,
  maxPoolGradOp,
  type PhasePlacement,
} from './gradient-kernels.ts';
import { gemmOp, hasGemmSimd } from './gemm-kernel.ts';
import { attrsAs, runKernel } from './heap-backend.ts';
import { maxPoolGradFromTaps } from './max-pool-taps.ts';

export type Pads = { top: number; bottom: number; left: number; right: number };

function samePads(inSize: number, stride: number, k: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max(0, (out - 1) * stride + k - inSize);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export function padsOf(
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
    const [kh, kw, ci, co] = filterShape;
    const [n, oh, ow] = dy.shape;
    if (ci === 1 && co === 32 && hasTrainSimd()) {
      // conv1: a direct SIMD kernel, where the GEMM below would repack all of dy on every call.
      return filterGradC1x32Op(x, dy, {
        kh,
        kw,
        sh: strides[0],
        sw: strides[1],
        top: pads.top,
        left: pads.left,
      });
    }
    const grid = { kh, kw, sh: strides[0], sw: strides[1], top: pads.top, left: pads.left, oh, ow };
    // The phase grid makes im2col a few memcpys but gives the GEMM (PU*PV - OH*OW) * N extra
    // columns; copying the plain grid row by row in JavaScript costs about as much per value as
    // 15 multiply-adds of the GEMM. Long rows copy cheaply either way, and the SIMD kernel
    // writes the plain grid as fast as the memcpys write the phase grid.
    const [pu, pv] = phaseGrid(grid);
    const compact = hasSimdIm2col(ci) || ow >= 64 || co * (pu * pv - oh * ow) > 15 * oh * ow;
    const attrs = { ...grid, compact };
    // One GEMM over all output positions: [KH*KW*Ci, P] @ [P, Co] is already HWIO. On the
    // phase grid dy gets zeros on the extra cells.
    const patches = im2colTOp(x, attrs);
    const [up, vp] = im2colGrid(attrs);
    const dyGrid =
      up === oh && vp === ow
        ? dy
        : tf.pad(dy, [
            [0, 0],
            [0, up - oh],
            [0, vp - ow],
            [0, 0],
          ]);
    const dyMatrix = tf.reshape(dyGrid, [n * up * vp, co]) as tf.Tensor2D;
    // The SIMD GEMM where it runs (float32 on wasm, Co a multiple of 4); XNNPACK's BatchMatMul
    // repacks dy on every call and runs at about half its rate on these shapes.
    const simd =
      patches.dtype === 'float32' && dyMatrix.dtype === 'float32' && n * up * vp > 0 && hasGemmSimd(co);
    const dw = simd ? gemmOp(patches, dyMatrix) : tf.matMul(patches, dyMatrix);
    return tf.reshape(dw, [kh, kw, ci, co]);
  });
}

interface AxisPhase {
  /** Phase r: the input positions with (i + top) % s === r, fed by taps r, r+s, ... */
  readonly r: number;
  /** Number of taps in this phase. */
  readonly taps: number;
  readonly qMin: number;
  readonly qMax: number;
  /** The q held at index 0 of the phase's convolution output. */
  readonly q0: number;
  readonly padL: number;
  readonly padR: number;
}

/**
 * Sub-pixel split of one axis of a strided transposed convolution: input position
 * i = q*s + r - top receives sum_m dy[q - m] * w[r + s*m], a stride-1 correlation of dy with
 * the phase's taps reversed. Phases without taps or without positions are left out.
 */
function axisPhases(inSize: number, outSize: number, k: number, s: number, top: number): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let r = 0; r < s; r++) {
    const taps = r < k ? Math.floor((k - 1 - r) / s) + 1 : 0;
    const qMin = Math.max(0, Math.ceil((top - r) / s));
    const qMax = Math.floor((inSize - 1 + top - r) / s);
    if (taps === 0 || qMax < qMin) continue;
    const padL = Math.max(0, taps - 1 - qMin);
    const q0 = taps - 1 - padL;
    const padR = Math.max(0, qMax - q0 + taps - outSize - padL);
    phases.push({ r, taps, qMin, qMax, q0, padL, padR });
  }
  return phases;
}

/** The phase filter [TH, TW, Co, Ci]: taps of `w` (HWIO) for one phase, reversed, in/out swapped. */
function phaseFilter(
  wv: Float32Array,
  wShape: readonly [number, number, number, number],
  ph: AxisPhase,
  pw: AxisPhase,
  sh: number,
  sw: number,
): tf.Tensor4D {
  const [, kw, ci, co] = wShape;
  const out = new Float32Array(ph.taps * pw.taps * co * ci);
  let o = 0;
  for (let jh = 0; jh < ph.taps; jh++) {
    const a = ph.r + sh * (ph.taps - 1 - jh);
    for (let jw = 0; jw < pw.taps; jw++) {
      const b = pw.r + sw * (pw.taps - 1 - jw);
      const base = (a * kw + b) * ci * co;
      for (let oc = 0; oc < co; oc++) {
        for (let ic = 0; ic < ci; ic++) out[o++] = wv[base + ic * co + oc]!;
      }
    }
  }
  return tf.tensor4d(out, [ph.taps, pw.taps, co, ci]);
}

/**
 * dx of a convolution, as stride-1 convolutions of dy with the phase filters, one per
 * (row phase, column phase), interleaved into dx. Unlike convolving a zero-upsampled dy this
 * does only the multiply-adds that touch a nonzero, and it never slices.
 */
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
    const rows = axisPhases(h, oh, kh, sh, pads.top);
    const cols = axisPhases(w, ow, kw, sw, pads.left);
    const wv = filter.dataSync() as Float32Array;
    const placements: PhasePlacement[] = [];
    const outputs: tf.Tensor4D[] = [];
    for (const ph of rows) {
      for (const pw of cols) {
        const out = tf.conv2d(dy, phaseFilter(wv, filter.shape, ph, pw, sh, sw), 1, [
          [0, 0],
          [ph.padL, ph.padR],
          [pw.padL, pw.padR],
          [0, 0],
        ]);
        const exact =
          sh === 1 &&
          sw === 1 &&
          ph.q0 === ph.qMin &&
          pw.q0 === pw.qMin &&
          out.shape[1] === h &&
          out.shape[2] === w;
        if (exact) return out; // stride 1: the one phase is dx itself
        outputs.push(out);
        placements.push({
          rh: ph.r,
          rw: pw.r,
          qMinH: ph.qMin,
          qMaxH: ph.qMax,
          qMinW: pw.qMin,
          qMaxW: pw.qMax,
          q0h: ph.q0,
          q0w: pw.q0,
        });
      }
    }
    if (outputs.length === 0) return tf.zeros([...inShape]) as tf.Tensor4D;
    return interleaveOp(outputs, placements, inShape, strides, [pads.top, pads.left]);
  });
}

/** Max-pool gradient on the wasm heap: each output's gradient goes to its window's first maximum. */
export function maxPoolGrad(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  attrs: MaxPoolAttrs,
): tf.Tensor4D {
  const [kh, kw] =
    typeof attrs.filterSize === 'number' ? [attrs.filterSize, attrs.filterSize] : attrs.filterSize;
  const [sh, sw] = stridesOf(attrs.strides);
  const p = padsOf(attrs.pad, x.shape[1], x.shape[2], kh, kw, [sh, sw]);
  return maxPoolGradOp(dy, x, y, { kh, kw, sh, sw, top: p.top, left: p.left });
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
      const a = attrsAs<Conv2DAttrs>(attrs);
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
          runKernel<tf.Tensor4D>(
            'Conv2DBackpropInput',
            { dy, filter },
            {
              ...kernelAttrs,
              inputShape: x.shape,
            },
          ),
        filter: () =>
          runKernel<tf.Tensor4D>(
            'Conv2DBackpropFilter',
            { x, dy },
            {
              ...kernelAttrs,
              filterShape: filter.shape,
            },
          ),
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
      const a = attrsAs<MaxPoolAttrs>(attrs);
      if (onWasm()) return { x: () => maxPoolGradFromTaps(dy, x, y, a) ?? maxPoolGrad(dy, x, y, a) };
      return {
        x: () =>
          runKernel<tf.Tensor4D>(
            'MaxPoolGrad',
            { dy, input: x, output: y },
            {
              filterSize: a.filterSize,
              strides: a.strides,
              pad: a.pad,
              dimRoundingMode: a.dimRoundingMode,
            },
          ),
      };
    },
  };
}

/** The Conv2D and MaxPool gradients of this file, for register.ts. */
export function gradientConfigs(): GradConfig[] {
  return [conv2dGradConfig(), maxPoolGradConfig()];
}
