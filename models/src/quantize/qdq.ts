// The QDQ form of FADNet's convolutions, as QNN HTP and TensorRT expect: every convolution reads
// its input through QuantizeLinear -> DequantizeLinear, its weights through a per-channel
// DequantizeLinear of symmetric int8 values, its bias through a DequantizeLinear of int32 values
// at input scale x weight scale, and its output goes through QuantizeLinear -> DequantizeLinear.
// A runtime with int8 kernels fuses each DQ -> Conv -> Q into one integer convolution; the rest
// of the graph stays float between the pairs.
import type { ConvEmitter } from '../onnx/export.ts';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { QuantizeError } from './errors.ts';
import { roundHalfEven } from '../../../common/index.ts';
import type { ActivationRange } from './ranges.ts';

export const ACTIVATION_TYPES = ['uint8', 'int8'] as const;
/** uint8: asymmetric, zero point from the range (QNN HTP's preference); int8: symmetric, zero point 0 (TensorRT's). */
export type ActivationType = (typeof ACTIVATION_TYPES)[number];

export interface QuantParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** Symmetric int8 weights use [-127, 127], so -w quantizes to exactly -q (TensorRT requires it). */
export const WEIGHT_QMAX = 127;

/** The calibration key of a convolution's input or output activation. */
export function activationKey(layer: string, side: 'input' | 'output'): string {
  return `${layer}.${side}`;
}

/** Scale and zero point for an activation range; the range is widened to hold 0 exactly (padding). */
export function activationParams(range: ActivationRange, type: ActivationType): QuantParams {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) {
    throw new QuantizeError(`activation range [${range.min}, ${range.max}] is not a finite interval`);
  }
  const lo = Math.min(0, range.min);
  const hi = Math.max(0, range.max);
  if (type === 'int8') {
    const m = Math.max(-lo, hi);
    return { scale: m > 0 ? m / 127 : 1, zeroPoint: 0 };
  }
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = (hi - lo) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** Per output channel, symmetric: scale = max|w| / 127, zero point 0. */
export function quantizeWeightsPerChannel(
  w: Float32Array,
  outChannels: number,
): { values: Int8Array; scales: Float32Array } {
  if (outChannels < 1 || w.length % outChannels !== 0) {
    throw new QuantizeError(`${w.length} weights do not split into ${outChannels} output channels`);
  }
  const per = w.length / outChannels;
  const values = new Int8Array(w.length);
  const scales = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let m = 0;
    for (let i = o * per; i < (o + 1) * per; i++) m = Math.max(m, Math.abs(w[i]!));
    // Float32 like the graph stores it, so the int8 values are rounded against the stored scale.
    const s = Math.fround(m > 0 ? m / WEIGHT_QMAX : 1);
    scales[o] = s;
    for (let i = o * per; i < (o + 1) * per; i++)
      values[i] = Math.max(-WEIGHT_QMAX, Math.min(WEIGHT_QMAX, roundHalfEven(w[i]! / s)));
  }
  return { values, scales };
}

/** Bias at input scale x weight scale, zero point 0, as the integer convolution adds it. */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScales: Float32Array,
): { values: Int32Array; scales: Float32Array } {
  const values = new Int32Array(bias.length);
  const scales = new Float32Array(bias.length);
  for (let o = 0; o < bias.length; o++) {
    const s = Math.fround(inputScale * weightScales[o]!);
    scales[o] = s;
    const q = roundHalfEven(bias[o]! / s);
    if (Math.abs(q) > 2 ** 31 - 1) {
      throw new QuantizeError(`bias ${o} (${bias[o]}) overflows int32 at scale ${s}`);
    }
    values[o] = q;
  }
  return { values, scales };
}

/**
 * A ConvEmitter for calibration: writes the plain convolution and records, per activation key,
 * which tensor of the graph holds it, so the graph can expose them as outputs.
 */
export function probingConv(probes: Map<string, string>, plain: ConvEmitter): ConvEmitter {
  return (g, c) => {
    probes.set(activationKey(c.layer, 'input'), c.input);
    const y = plain(g, c);
    probes.set(activationKey(c.layer, 'output'), y);
    return y;
  };
}

/** A ConvEmitter that writes each convolution in QDQ form with the calibrated ranges. One per graph. */
export function qdqConv(ranges: ReadonlyMap<string, ActivationRange>, type: ActivationType): ConvEmitter {
  // A tensor read by several convolutions (x1 feeds conv2 and conv2_support) gets one Q/DQ pair.
  const dequantized = new Map<string, { name: string; scale: number }>();
  const rangeOf = (key: string): ActivationRange => {
    const r = ranges.get(key);
    if (r === undefined) throw new QuantizeError(`no calibrated range for activation ${key}`);
    return r;
  };
  const qdq = (g: GraphBuilder, x: string, key: string, label: string): { name: string; scale: number } => {
    const p = activationParams(rangeOf(key), type);
    const scale = g.float32Init(`${label}.scale`, [], [p.scale]);
    const zp = g.int8Init(
      `${label}.zero_point`,
      [],
      type === 'uint8' ? Uint8Array.of(p.zeroPoint) : Int8Array.of(p.zeroPoint),
    );
    const q = g.node('QuantizeLinear', [x, scale, zp], undefined, `${label}.q`);
    return {
      name: g.node('DequantizeLinear', [q, scale, zp], undefined, `${label}.dq`),
      scale: Math.fround(p.scale),
    };
  };
  return (g, c) => {
    let input = dequantized.get(c.input);
    if (input === undefined) {
      input = qdq(g, c.input, activationKey(c.layer, 'input'), `${c.layer}.input`);
      dequantized.set(c.input, input);
    }
    const out = c.weightShape[0]!;
    const w = quantizeWeightsPerChannel(c.weight, out);
    const b = quantizeBias(c.bias, input.scale, w.scales);
    const weight = g.node(
      'DequantizeLinear',
      [
        g.int8Init(`${c.weightName}.int8`, c.weightShape, w.values),
        g.float32Init(`${c.weightName}.scale`, [out], w.scales),
        g.int8Init(`${c.weightName}.zero_point`, [out], new Int8Array(out)),
      ],
      { axis: 0 },
    );
    const bias = g.node(
      'DequantizeLinear',
      [
        g.int32Init(`${c.biasName}.int32`, [out], b.values),
        g.float32Init(`${c.biasName}.scale`, [out], b.scales),
        g.int32Init(`${c.biasName}.zero_point`, [out], new Int32Array(out)),
      ],
      { axis: 0 },
    );
    const y = g.node('Conv', [input.name, weight, bias], c.attrs);
    return qdq(g, y, activationKey(c.layer, 'output'), `${c.layer}.output`).name;
  };
}
