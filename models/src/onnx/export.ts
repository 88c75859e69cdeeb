// FADNet as a standard ONNX graph (opset 17), written by our own code from a weight set.
// NCHW like the reference, batch dimension symbolic, spatial size fixed at the input size the
// model package declares (200 x 200 unless said), so every SAME padding becomes explicit pads
// exactly as docs/fadnet.md computes them.
import { OnnxExportError } from '../errors.ts';
import { FC_WIDTH, fadnetGeometry, type FrameSize } from '../fadnet/geometry.ts';
import { FADNET_INPUT_SPEC } from '../input-spec.ts';
import { FADNET_PARAM_BY_NAME } from '../weights/spec.ts';
import { validateWeights, type WeightSet } from '../weights/weight-set.ts';
import { GraphBuilder, type FloatType, type ValueSpec } from './graph-builder.ts';
import { DataType } from './proto.ts';

export const ONNX_OPSET = 17;
const IR_VERSION = 8; // the IR version that goes with opset 17
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'steering';

function samePads(inSize: number, k: number, stride: number): { out: number; before: number; after: number } {
  const out = Math.ceil(inSize / stride);
  const total = Math.max(0, (out - 1) * stride + k - inSize);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

export interface ExportOptions {
  readonly modelName?: string;
  readonly producerVersion?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  /** The input frame size the graph takes (FADNET_INPUT_SPEC's unless said). */
  readonly input?: FrameSize;
}

/** One convolution as FADNet asks for it; a ConvEmitter decides how it is written to the graph. */
export interface ConvRequest {
  /** The layer's weight-set name, e.g. `res_block1.conv2d`. */
  readonly layer: string;
  readonly input: string;
  readonly weightName: string;
  readonly weight: Float32Array;
  /** OIHW. */
  readonly weightShape: readonly number[];
  readonly biasName: string;
  readonly bias: Float32Array;
  readonly attrs: { kernel_shape: number[]; strides: number[]; pads: number[] };
}

/** Writes one convolution into the graph and returns the name of its output. */
export type ConvEmitter = (g: GraphBuilder, conv: ConvRequest) => string;

/** The convolution as it is: float weights and bias in the graph's float type. */
export const plainConv: ConvEmitter = (g, c) =>
  g.node(
    'Conv',
    [
      c.input,
      g.floatInit(c.weightName, c.weightShape, c.weight),
      g.floatInit(c.biasName, [c.bias.length], c.bias),
    ],
    c.attrs,
  );

export interface FadnetGraphOptions extends ExportOptions {
  /** float16 writes every weight in half precision and computes in it; input and output stay float32. */
  readonly floatType?: FloatType;
  /** How each convolution is written (plain, quantize-dequantize, probed for calibration). */
  readonly conv?: ConvEmitter;
  /** Graph outputs beyond the steering value, asked for once the graph is built (calibration probes). */
  readonly extraOutputs?: () => readonly ValueSpec[];
}

/** The float32 (or, with `floatType: 'float16'`, half precision) FADNet graph. */
export function exportFadnetOnnx(weightsIn: WeightSet, options: FadnetGraphOptions = {}): Uint8Array {
  let weights: WeightSet;
  try {
    weights = validateWeights(weightsIn);
  } catch (error) {
    throw new OnnxExportError(`cannot export: ${(error as Error).message}`, { cause: error });
  }
  const g = new GraphBuilder({ floatType: options.floatType ?? 'float32' });
  const emitConv = options.conv ?? plainConv;
  const param = (name: string): string => {
    const spec = FADNET_PARAM_BY_NAME.get(name)!;
    return g.floatInit(name, spec.shape, weights.get(name)!);
  };

  // Spatial size of each tensor, tracked so SAME pads are computed from the real input size.
  const conv = (name: string, x: string, size: number, stride: number): [string, number] => {
    const k = FADNET_PARAM_BY_NAME.get(`${name}.weight`)!.shape[2]!;
    const p = samePads(size, k, stride);
    const y = emitConv(g, {
      layer: name,
      input: x,
      weightName: `${name}.weight`,
      weight: weights.get(`${name}.weight`)!,
      weightShape: FADNET_PARAM_BY_NAME.get(`${name}.weight`)!.shape,
      biasName: `${name}.bias`,
      bias: weights.get(`${name}.bias`)!,
      attrs: {
        kernel_shape: [k, k],
        strides: [stride, stride],
        pads: [p.before, p.before, p.after, p.after],
      },
    });
    return [y, p.out];
  };
  const batchNorm = (name: string, x: string): string =>
    g.node(
      'BatchNormalization',
      [
        x,
        param(`${name}.weight`),
        param(`${name}.bias`),
        param(`${name}.running_mean`),
        param(`${name}.running_var`),
      ],
      { epsilon: { f: 1e-5 } },
    );
  const resBlock = (name: string, x: string, size: number): [string, number] => {
    const a = g.node('Relu', [batchNorm(`${name}.batch_norm`, x)]);
    const [b, s1] = conv(`${name}.conv2d`, a, size, 2);
    const c = g.node('Relu', [batchNorm(`${name}.batch_norm_1`, b)]);
    return conv(`${name}.conv2d_2`, c, s1, 1);
  };
  // The support branches meet only in fc_accumulation, a0*f1 + a1*f2 + a2*f3 + b, and every step
  // from the support convolution to there is linear (pair-mean included). So each support
  // convolution is scaled by its a_k (b folded into the first bias), the three maps are added
  // and pair-meaned once: one reduction instead of three and no separate scale-and-sum.
  const acc = weights.get('fc_accumulation.weight')!;
  const accBias = weights.get('fc_accumulation.bias')![0]!;
  const support = (k: number, name: string, x: string, size: number, stride: number): string => {
    const w = weights.get(`${name}.weight`)!;
    const b = weights.get(`${name}.bias`)!;
    const a = acc[k]!;
    const ws = w.map((v) => v * a);
    const bs = b.map((v) => v * a + (k === 0 ? accBias : 0));
    const p = samePads(size, 1, stride);
    return emitConv(g, {
      layer: name,
      input: x,
      weightName: `${name}.weight_acc`,
      weight: ws,
      weightShape: FADNET_PARAM_BY_NAME.get(`${name}.weight`)!.shape,
      biasName: `${name}.bias_acc`,
      bias: bs,
      attrs: {
        kernel_shape: [1, 1],
        strides: [stride, stride],
        pads: [p.before, p.before, p.after, p.after],
      },
    });
  };

  // A half-precision graph computes in float16 between two casts, so its input and output stay
  // float32 as the manifest says and every engine feeds it the same tensors.
  const half = g.floatType === 'float16';
  const input = half ? g.node('Cast', [ONNX_INPUT_NAME], { to: DataType.FLOAT16 }) : ONNX_INPUT_NAME;
  const size = options.input ?? FADNET_INPUT_SPEC;
  let geometry;
  try {
    geometry = fadnetGeometry(size);
  } catch (error) {
    throw new OnnxExportError(`cannot export: ${(error as Error).message}`, { cause: error });
  }
  const { features } = geometry;
  // Height and width pad alike (square kernels, equal strides) only for square inputs.
  if (size.height !== size.width) {
    throw new OnnxExportError(`cannot export: input ${size.height}x${size.width} is not square`);
  }
  const [c1, s1] = conv('conv1', input, size.height, 2);
  const x1 = g.node('MaxPool', [c1], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0] });
  const p1 = Math.floor((s1 - 3) / 2) + 1;
  const [r1, s2] = resBlock('res_block1', x1, p1);
  const x2 = g.node('Add', [conv('conv2', x1, p1, 2)[0], r1]);
  const [r2, s3] = resBlock('res_block2', x2, s2);
  const x3 = g.node('Add', [conv('conv3', x2, s2, 2)[0], r2]);
  const [r3] = resBlock('res_block3', x3, s3);
  const x4 = g.node('Add', [conv('conv4', x3, s3, 2)[0], r3]);
  const supportSum = g.node('Add', [
    g.node('Add', [support(0, 'conv2_support', x1, p1, 7), support(1, 'conv3_support', x2, s2, 4)]),
    support(2, 'conv4_support', x3, s3, 2),
  ]);
  // pair-mean: NCHW flatten, then the mean of each neighbouring pair.
  const f = g.node(
    'ReduceMean',
    [g.node('Reshape', [supportSum, g.int64Init('pair_shape', [0, features, 2])])],
    {
      axes: [2],
      keepdims: 0,
    },
  );

  // fc on the width axis of x4 (N,128,H4,7): x @ W^T + b.
  const fcW = weights.get('fc.weight')!;
  const k = FC_WIDTH;
  const fcWt = new Float32Array(k * k);
  for (let o = 0; o < k; o++) for (let i = 0; i < k; i++) fcWt[i * k + o] = fcW[o * k + i]!;
  const fcOut = g.node('Relu', [
    g.node('Add', [g.node('MatMul', [x4, g.floatInit('fc.weight_t', [k, k], fcWt)]), param('fc.bias')]),
  ]);
  const flat = g.node('Reshape', [fcOut, g.int64Init('flat_shape', [0, features])]);
  const mean = g.node(
    'ReduceMean',
    [g.node('Mul', [flat, f])],
    { axes: [1], keepdims: 1 },
    half ? undefined : ONNX_OUTPUT_NAME,
  );
  if (half) g.node('Cast', [mean], { to: DataType.FLOAT }, ONNX_OUTPUT_NAME);

  return g.encode({
    graphName: options.modelName ?? 'fadnet',
    inputs: [{ name: ONNX_INPUT_NAME, dims: ['N', 1, size.height, size.width] }],
    outputs: [{ name: ONNX_OUTPUT_NAME, dims: ['N', 1] }, ...(options.extraOutputs?.() ?? [])],
    opset: ONNX_OPSET,
    irVersion: IR_VERSION,
    producerVersion: options.producerVersion ?? '0.1.0',
    docString: `FADNet steering from one grey ${size.height}x${size.width} frame (N x 1 x ${size.height} x ${size.width}, values in [-1, 1]).`,
    metadata: options.metadata ?? {},
  });
}
