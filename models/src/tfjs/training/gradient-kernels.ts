// New kernels of the WebAssembly backend that the convolution and max-pool gradients
// (gradients.ts) run: im2col, the placement of stride phases into an input gradient, the
// max-pool gradient from x and y, and conv1's filter gradient, on the wasm heap. Training only.
// The wasm backend's Slice, StridedSlice, Concat and Transpose are several times slower than
// a memcpy, and reading a tensor into JavaScript (dataSync) and back costs two full copies
// plus fresh allocations. These kernels read their inputs as views of the heap and write
// their output straight into a tensor allocated there, so the gather/scatter steps of the
// training gradients cost one pass over the data. Where the SIMD kernels of simd/ can run on
// the heap, the max-pool gradient, conv1's filter gradient and im2col's plain grid use them
// instead.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { heapKernel, runKernel, type HeapBackend } from './heap-backend.ts';
import { trainSimd, type FilterGradGeometry } from './simd/train-simd.ts';

export interface Im2ColAttrs extends FilterGradGeometry {
  readonly oh: number;
  readonly ow: number;
  /** Write the plain OH x OW grid rather than the phase grid (see im2colGrid). */
  readonly compact: boolean;
}

/** Rows and columns of each stride phase of x, as im2colT lays it out (see there). */
export function phaseGrid(at: Omit<Im2ColAttrs, 'compact'>): [number, number] {
  return [at.oh + Math.floor((at.kh - 1) / at.sh), at.ow + Math.floor((at.kw - 1) / at.sw)];
}

/**
 * Rows and columns of the output grid im2colT writes: the phase grid (each patch row is then a
 * single memcpy; the caller zero-pads dy to match, and the GEMM does the padded columns too),
 * or with `compact` the plain OH x OW grid, copied row by row.
 */
export function im2colGrid(at: Im2ColAttrs): [number, number] {
  return at.compact ? [at.oh, at.ow] : phaseGrid(at);
}

/**
 * Transposed im2col: x [N,H,W,C] -> [KH*KW*C, N*GH*GW], row (a,b,c) holding
 * x[n, i*sh + a - top, j*sw + b - left, c] at column (n, i, j) of the GH x GW grid
 * im2colGrid gives, zero outside x. Grid cells with i >= OH or j >= OW hold junk that the
 * caller pairs with zero-padded dy. Rows in (a,b,c) order make `patches @ dy` HWIO.
 *
 * Why the padded grid: x is first split into its stride phases, channel-major
 * (phase[c][n][u][v] = x[n, u*sh + pa - top, v*sw + pb - left, c]). On the grid every row is
 * then one contiguous run of a phase, shifted by the tap's offset, so the K rows are memcpys
 * and JavaScript touches each element of x about once instead of once per tap.
 */
function im2colT(x: TensorInfo, at: Im2ColAttrs, backend: HeapBackend): TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const { kh, kw, sh, sw, top, left } = at;
  const { oh, ow } = at;
  const [up, vp] = phaseGrid(at);
  const p = n * up * vp;
  const tail = Math.floor((kh - 1) / sh) * vp + Math.floor((kw - 1) / sw);
  const compact = at.compact;
  const outInfo = backend.makeOutput([kh * kw * c, compact ? n * oh * ow : p]);
  const out = backend.view(outInfo);
  const xv = backend.view(x);
  const simd = compact && c % 4 === 0 ? trainSimd(backend.backend) : null;
  if (simd !== null) {
    // The plain grid straight from x, four channels by four columns at a time.
    simd.im2colT(xv, [n, h, w, c], at, [oh, ow], out);
    return outInfo;
  }
  const phases = new Map<number, Float32Array>();
  for (let pa = 0; pa < Math.min(sh, kh); pa++) {
    for (let pb = 0; pb < Math.min(sw, kw); pb++) {
      const buf = new Float32Array(c * p + tail); // zero: padding and the tail junk reads
      for (let bn = 0; bn < n; bn++) {
        for (let u = 0; u < up; u++) {
          const r = u * sh + pa - top;
          if (r < 0 || r >= h) continue;
          const xRow = (bn * h + r) * w;
          const dstRow = (bn * up + u) * vp;
          for (let v = 0; v < vp; v++) {
            const col = v * sw + pb - left;
            if (col < 0 || col >= w) continue;
            let xi = (xRow + col) * c;
            let o = dstRow + v;
            for (let ch = 0; ch < c; ch++, xi++, o += p) buf[o] = xv[xi]!;
          }
        }
      }
      phases.set(pa * sw + pb, buf);
    }
  }
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const buf = phases.get((a % sh) * sw + (b % sw))!;
      const shift = Math.floor(a / sh) * vp + Math.floor(b / sw);
      for (let ch = 0; ch < c; ch++) {
        const row = (a * kw + b) * c + ch;
        if (!compact) {
          const src = ch * p + shift;
          out.set(buf.subarray(src, src + p), row * p);
          continue;
        }
        for (let bn = 0; bn < n; bn++) {
          for (let i = 0; i < oh; i++) {
            const src = ch * p + (bn * up + i) * vp + shift;
            const dst = ((row * n + bn) * oh + i) * ow;
            // A call to set() costs more than a short row's plain copy.
            if (ow >= 32) out.set(buf.subarray(src, src + ow), dst);
            else for (let k = 0; k < ow; k++) out[dst + k] = buf[src + k]!;
          }
        }
      }
    }
  }
  return outInfo;
}

/** Where one phase of a strided input gradient lands in dx (see conv2dInputGrad). */
export interface PhasePlacement {
  /** dx row = q * sh + rh - top for q in [qMinH, qMaxH]; the phase tensor holds q at q - q0h. */
  readonly rh: number;
  readonly rw: number;
  readonly qMinH: number;
  readonly qMaxH: number;
  readonly qMinW: number;
  readonly qMaxW: number;
  readonly q0h: number;
  readonly q0w: number;
}

/** Interleaves per-phase results [N,UH,UW,C] into dx [N,H,W,C]; positions no phase covers are 0. */
function interleave(
  phases: TensorInfo[],
  placements: readonly PhasePlacement[],
  dxShape: readonly [number, number, number, number],
  strides: readonly [number, number],
  topLeft: readonly [number, number],
  backend: HeapBackend,
): TensorInfo {
  const [n, h, w, c] = dxShape;
  const [sh, sw] = strides;
  const [top, left] = topLeft;
  const outInfo = backend.makeOutput([n, h, w, c]);
  const out = backend.view(outInfo);
  const covered = placements.reduce((s, pl) => s + (pl.qMaxH - pl.qMinH + 1) * (pl.qMaxW - pl.qMinW + 1), 0);
  if (covered < h * w) out.fill(0);
  const simd = c % 4 === 0 ? trainSimd(backend.backend) : null;
  placements.forEach((pl, k) => {
    const ph = phases[k]!;
    const [, uh, uw] = ph.shape as [number, number, number, number];
    const pv = backend.view(ph);
    if (simd !== null) {
      const firstRow = pl.qMinH * sh + pl.rh - top;
      const firstCol = pl.qMinW * sw + pl.rw - left;
      simd.placePhase(
        pv,
        ((pl.qMinH - pl.q0h) * uw + pl.qMinW - pl.q0w) * c,
        out,
        (firstRow * w + firstCol) * c,
        {
          images: n,
          rows: pl.qMaxH - pl.qMinH + 1,
          cols: pl.qMaxW - pl.qMinW + 1,
          c,
          srcImage: uh * uw * c,
          srcRow: uw * c,
          dstImage: h * w * c,
          dstRow: sh * w * c,
          dstPixel: sw * c,
        },
      );
      return;
    }
    for (let bn = 0; bn < n; bn++) {
      for (let qh = pl.qMinH; qh <= pl.qMaxH; qh++) {
        const i = qh * sh + pl.rh - top;
        const srcRow = (bn * uh + qh - pl.q0h) * uw;
        const dstRow = (bn * h + i) * w;
        if (sw === 1) {
          // Whole rows are contiguous in both tensors.
          const src = (srcRow + pl.qMinW - pl.q0w) * c;
          const dst = (dstRow + pl.qMinW * sw + pl.rw - left) * c;
          out.set(pv.subarray(src, src + (pl.qMaxW - pl.qMinW + 1) * c), dst);
          continue;
        }
        for (let qw = pl.qMinW; qw <= pl.qMaxW; qw++) {
          let src = (srcRow + qw - pl.q0w) * c;
          let dst = (dstRow + qw * sw + pl.rw - left) * c;
          for (let ch = 0; ch < c; ch++) out[dst++] = pv[src++]!;
        }
      }
    }
  });
  return outInfo;
}

export interface PoolAttrs {
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly top: number;
  readonly left: number;
}

/** Max-pool gradient: each output's gradient goes to the first maximum of its window (y = the pooled x). */
function maxPoolGrad(
  dy: TensorInfo,
  x: TensorInfo,
  y: TensorInfo,
  at: PoolAttrs,
  backend: HeapBackend,
): TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [, oh, ow] = dy.shape as [number, number, number, number];
  const { kh, kw, sh, sw, top, left } = at;
  const outInfo = backend.makeOutput([n, h, w, c]);
  const dx = backend.view(outInfo);
  const xv = backend.view(x);
  const dyv = backend.view(dy);
  const yv = backend.view(y);
  const inside = top === 0 && left === 0 && (oh - 1) * sh + kh <= h && (ow - 1) * sw + kw <= w;
  const simd = inside && c % 4 === 0 && oh > 0 && ow > 0 ? trainSimd(backend.backend) : null;
  if (simd !== null) {
    // Same visiting order and tie rule as the loops below: the same bits, several times faster.
    simd.maxPoolGrad(xv, [n, h, w, c], yv, dyv, [n, oh, ow, c], { kh, kw, sh, sw }, dx);
    return outInfo;
  }
  dx.fill(0);
  const taps = new Int32Array(kh * kw);
  const row = w * c;
  for (let bn = 0; bn < n; bn++) {
    for (let i = 0; i < oh; i++) {
      const r0 = Math.max(0, i * sh - top);
      const r1 = Math.min(h, i * sh - top + kh);
      for (let j = 0; j < ow; j++) {
        const c0 = Math.max(0, j * sw - left);
        const c1 = Math.min(w, j * sw - left + kw);
        const outBase = ((bn * oh + i) * ow + j) * c;
        if (r1 - r0 === 3 && c1 - c0 === 3) {
          // A whole 3x3 window (the network's pool): the taps unrolled, in scan order.
          const o0 = ((bn * h + r0) * w + c0) * c;
          for (let ch = 0; ch < c; ch++) {
            const m = yv[outBase + ch]!;
            let p = o0 + ch;
            if (xv[p] !== m && xv[(p += c)] !== m && xv[(p += c)] !== m) {
              p = o0 + row + ch;
              if (xv[p] !== m && xv[(p += c)] !== m && xv[(p += c)] !== m) {
                p = o0 + 2 * row + ch;
                if (xv[p] !== m && xv[(p += c)] !== m) p += c;
              }
            }
            dx[p] = dx[p]! + dyv[outBase + ch]!;
          }
          continue;
        }
        // Window offsets in scan order (row-major, as the CPU kernel breaks ties).
        let nt = 0;
        for (let r = r0; r < r1; r++) {
          for (let q = c0; q < c1; q++) taps[nt++] = ((bn * h + r) * w + q) * c;
        }
        if (nt === 0) continue;
        for (let ch = 0; ch < c; ch++) {
          // The window's maximum is y itself (max is exact in float), so the first tap equal
          // to it is the first maximum; most windows stop well before the last tap.
          const m = yv[outBase + ch]!;
          let t = 0;
          while (t < nt - 1 && xv[taps[t]! + ch] !== m) t++;
          const at = taps[t]! + ch;
          dx[at] = dx[at]! + dyv[outBase + ch]!;
        }
      }
    }
  }
  return outInfo;
}

/** Filter gradient [KH,KW,1,32] of a one-channel-in, 32-channel-out convolution (the network's conv1). */
function filterGradC1x32(
  x: TensorInfo,
  dy: TensorInfo,
  at: FilterGradGeometry,
  backend: HeapBackend,
): TensorInfo {
  const simd = trainSimd(backend.backend);
  if (simd === null)
    throw new Error('FadnetFilterGradC1x32 needs the SIMD kernels; check hasTrainSimd() first');
  const xShape = x.shape as [number, number, number, number];
  const dyShape = dy.shape as [number, number, number, number];
  if (xShape[3] !== 1 || dyShape[3] !== 32 || xShape[0] !== dyShape[0]) {
    throw new Error(
      `FadnetFilterGradC1x32: x [${xShape.join(',')}] and dy [${dyShape.join(',')}] are not [N,H,W,1] and [N,OH,OW,32]`,
    );
  }
  const outInfo = backend.makeOutput([at.kh, at.kw, 1, 32]);
  const scratchInfo = backend.makeOutput([at.kh * at.kw * 32]);
  try {
    // Views taken after both allocations: an allocation may grow the heap and detach older ones.
    simd.filterGradC1x32(
      backend.view(x),
      xShape,
      backend.view(dy),
      dyShape,
      at,
      backend.view(outInfo),
      backend.view(scratchInfo),
    );
  } finally {
    backend.disposeData(scratchInfo.dataId);
  }
  return outInfo;
}

/**
 * Whether im2colT writes the plain grid of an input with `c` channels with the SIMD kernel,
 * which copies it about as fast as the phase grid's memcpys.
 */
export function hasSimdIm2col(c: number): boolean {
  return c % 4 === 0 && hasTrainSimd();
}

/** Whether the SIMD kernels run on the current backend (the wasm backend, with SIMD). */
export function hasTrainSimd(): boolean {
  return tf.getBackend() === 'wasm' && trainSimd(tf.backend()) !== null;
}

const FILTER_GRAD_C1X32 = 'FadnetFilterGradC1x32';
const IM2COL = 'FadnetIm2ColT';
const INTERLEAVE = 'FadnetPhaseInterleave';
const MAX_POOL_GRAD = 'FadnetMaxPoolGrad';

interface InterleaveAttrs {
  readonly placements: readonly PhasePlacement[];
  readonly dxShape: readonly [number, number, number, number];
  readonly strides: readonly [number, number];
  readonly topLeft: readonly [number, number];
}

/** The kernels of this file, for register.ts. */
export function gradientKernels(): KernelConfig[] {
  return [
    heapKernel<FilterGradGeometry>(FILTER_GRAD_C1X32, (inputs, attrs, backend) =>
      filterGradC1x32(inputs['x']!, inputs['dy']!, attrs, backend),
    ),
    heapKernel<Im2ColAttrs>(IM2COL, (inputs, attrs, backend) => im2colT(inputs['x']!, attrs, backend)),
    heapKernel<InterleaveAttrs>(INTERLEAVE, (inputs, a, backend) => {
      const phases = a.placements.map((_, k) => inputs[`p${k}`]!);
      return interleave(phases, a.placements, a.dxShape, a.strides, a.topLeft, backend);
    }),
    heapKernel<PoolAttrs>(MAX_POOL_GRAD, (inputs, attrs, backend) =>
      maxPoolGrad(inputs['dy']!, inputs['x']!, inputs['y']!, attrs, backend),
    ),
  ];
}

/** See filterGradC1x32; only where hasTrainSimd(). */
export function filterGradC1x32Op(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  geometry: FilterGradGeometry,
): tf.Tensor4D {
  return runKernel(FILTER_GRAD_C1X32, { x, dy }, geometry);
}

export function im2colTOp(x: tf.Tensor4D, attrs: Im2ColAttrs): tf.Tensor2D {
  return runKernel(IM2COL, { x }, attrs);
}

export function interleaveOp(
  phases: readonly tf.Tensor4D[],
  placements: readonly PhasePlacement[],
  dxShape: readonly [number, number, number, number],
  strides: readonly [number, number],
  topLeft: readonly [number, number],
): tf.Tensor4D {
  const inputs: Record<string, tf.Tensor> = {};
  phases.forEach((p, k) => (inputs[`p${k}`] = p));
  return runKernel<tf.Tensor4D, InterleaveAttrs>(INTERLEAVE, inputs, {
    placements,
    dxShape,
    strides,
    topLeft,
  });
}

export function maxPoolGradOp(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  attrs: PoolAttrs,
): tf.Tensor4D {
  return runKernel(MAX_POOL_GRAD, { dy, x, y }, attrs);
}
