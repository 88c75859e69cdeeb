// Model packages by precision: the quantization arithmetic, the int8 graph's QDQ structure, each
// precision's agreement with float32 on the reference fixture, and the manifest that says which
// precision a package holds.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roundHalfEven } from '../../common/index.ts';
import {
  loadModelPackage,
  readInputTensorFile,
  readWeightsFile,
  writeModelPackage,
} from '../../models/src/files.ts';
import { parseManifest } from '../../models/src/manifest.ts';
import { ModelProto } from '../../models/src/onnx/proto.ts';
import {
  activationParams,
  calibrateActivations,
  CalibrationError,
  entropyThresholdBin,
  exportPrecisionOnnx,
  HistogramObserver,
  MinMaxObserver,
  percentileRange,
  precisionOf,
  quantizeBias,
  quantizeWeightsPerChannel,
  type ActivationRange,
  type PrecisionTarget,
} from '../../models/src/quantize/index.ts';
import type { WeightSet } from '../../models/src/weights/weight-set.ts';
import { fixtureFile } from '../helpers/fixture.ts';

interface DecodedGraph {
  node: { opType: string; input: string[]; output: string[] }[];
  initializer: { name: string; dataType: number; dims: (number | { toNumber(): number })[] }[];
  input: {
    name: string;
    type: { tensorType: { elemType: number; shape: { dim: { dimValue?: unknown; dimParam?: string }[] } } };
  }[];
  output: { name: string; type: { tensorType: { elemType: number } } }[];
}

function decode(onnx: Uint8Array): DecodedGraph {
  return (
    ModelProto.toObject(ModelProto.decode(onnx), { longs: Number, defaults: false }) as {
      graph: DecodedGraph;
    }
  ).graph;
}

async function run(onnx: Uint8Array, x: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', x, [n, 1, 200, 200]) });
    return out['steering']!.data as Float32Array;
  } finally {
    await session.release();
  }
}

const maxAbs = (a: Float32Array, b: Float32Array): number =>
  Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

describe('quantization arithmetic', () => {
  it('uint8 activations are asymmetric with the range widened to hold zero', () => {
    expect(activationParams({ min: -1, max: 3 }, 'uint8')).toEqual({ scale: 4 / 255, zeroPoint: 64 });
    const positive = activationParams({ min: 0.5, max: 2.55 }, 'uint8');
    expect(positive.scale).toBeCloseTo(0.01, 12);
    expect(positive.zeroPoint).toBe(0);
    const symmetric = activationParams({ min: -2.54, max: 1 }, 'int8');
    expect(symmetric.scale).toBeCloseTo(0.02, 12);
    expect(symmetric.zeroPoint).toBe(0);
    expect(() => activationParams({ min: 1, max: -1 }, 'uint8')).toThrow(
      'activation range [1, -1] is not a finite interval',
    );
  });

  it('weights are symmetric int8 per output channel, in [-127, 127]', () => {
    const w = Float32Array.of(0.5, -1, 0.25, 0, 0.01, -0.04);
    const q = quantizeWeightsPerChannel(w, 2);
    expect(Array.from(q.scales)).toEqual([Math.fround(1 / 127), Math.fround(0.04 / 127)]);
    expect(Array.from(q.values)).toEqual([64, -127, 32, 0, 32, -127]);
    expect(() => quantizeWeightsPerChannel(w, 4)).toThrow('6 weights do not split into 4 output channels');
  });

  it('bias is int32 at input scale x weight scale', () => {
    const b = quantizeBias(Float32Array.of(1, -0.5), 0.5, Float32Array.of(0.01, 0.1));
    expect(Array.from(b.values)).toEqual([200, -10]);
    expect(Array.from(b.scales)).toEqual([Math.fround(0.005), Math.fround(0.05)]);
  });

  it('rounds half to even like QuantizeLinear', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, 3]);
  });
});

describe('calibration methods', () => {
  // 10,000 values in [0, 1) and one outlier at 100: min-max keeps it, the others clip it.
  const values = Float32Array.from({ length: 10_000 }, (_, i) => (i % 1000) / 1000);
  values[0] = 100;
  const minMax = new MinMaxObserver();
  minMax.observe('t', values);
  const bounds = minMax.ranges();
  const hist = new HistogramObserver(bounds);
  hist.observe('t', values);

  it('min-max keeps every value', () => {
    expect(bounds.get('t')).toEqual({ min: 0, max: 100 });
  });

  it('percentile and entropy clip the outlier', () => {
    const p = hist.ranges('percentile').get('t')!;
    expect(p.min).toBe(0);
    expect(p.max).toBe((21 * 100) / 2048); // the end of the 21 bins that hold [0, 1)
    const e = hist.ranges('entropy').get('t')!;
    // Entropy never clips below 128 bins (one bin per quantized level): 127.5 bins of 100/2048.
    expect(e.max).toBe((127.5 * 100) / 2048);
    expect(e.min).toBe(0);
  });

  it('percentile reads quantiles off a histogram; entropy keeps a histogram without outliers whole', () => {
    const h = new Float64Array(2048);
    h.fill(1, 0, 1000);
    expect(percentileRange(h, { min: 0, max: 2048 })).toEqual({ min: 0, max: 1000 });
    expect(entropyThresholdBin(h)).toBe(999);
  });

  it('refuses non-finite activations and tensors it never saw', () => {
    expect(() => new MinMaxObserver().observe('x', Float32Array.of(1, Number.NaN, Infinity))).toThrow(
      'calibration tensor x holds a non-finite value',
    );
    expect(() => new HistogramObserver(new Map()).observe('y', [1])).toThrow(
      'calibration tensor y has no first-pass range',
    );
  });
});

describe('precision packages on the fixture', () => {
  let weights: WeightSet;
  let inputs: Float32Array;
  let expected: Float32Array;
  let ranges: Map<string, ActivationRange>;
  let dir: string;
  const int8 = (): PrecisionTarget => ({
    kind: 'int8',
    ranges,
    activations: 'uint8',
    calibration: { method: 'minmax', samples: 4, data: ['fixture inputs'] },
  });

  beforeAll(async () => {
    weights = await readWeightsFile(fixtureFile('weights.safetensors'));
    inputs = (await readInputTensorFile(fixtureFile('inputs.f32'))).data;
    expected = new Float32Array((await readFile(fixtureFile('outputs.f32'))).buffer.slice(0));
    ranges = await calibrateActivations(weights, inputs, { method: 'minmax' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'fadnet-precision-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Stated tolerances. The fixture's four outputs differ from each other by about 3e-4, so each
  // tolerance is below that spread: a model that ignored its input would fail.
  it('fp32 reproduces the fixture within 2e-5', async () => {
    expect(
      maxAbs(await run(exportPrecisionOnnx(weights, { kind: 'fp32' }).onnx, inputs, 4), expected),
    ).toBeLessThan(2e-5);
  });

  it('fp16 agrees with the fixture within 1e-5 and stores every weight in float16', async () => {
    const { onnx } = exportPrecisionOnnx(weights, { kind: 'fp16' });
    expect(maxAbs(await run(onnx, inputs, 4), expected)).toBeLessThan(1e-5);
    const g = decode(onnx);
    const floats = g.initializer.filter((t) => t.dataType === 1 || t.dataType === 10);
    expect(floats.length).toBeGreaterThan(20);
    expect(floats.every((t) => t.dataType === 10)).toBe(true);
  });

  it('int8 (min-max on the fixture inputs) agrees with the fixture within 5e-5', async () => {
    expect(maxAbs(await run(exportPrecisionOnnx(weights, int8()).onnx, inputs, 4), expected)).toBeLessThan(
      5e-5,
    );
  });

  it('int8 is QDQ: every convolution reads dequantized int8 weights per channel, int32 bias and a quantized input, and its output is quantized', () => {
    const g = decode(exportPrecisionOnnx(weights, int8()).onnx);
    const producer = new Map(g.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
    const consumers = (t: string) => g.node.filter((n) => n.input.includes(t));
    const init = new Map(g.initializer.map((t) => [t.name, t]));
    const convs = g.node.filter((n) => n.opType === 'Conv');
    expect(convs).toHaveLength(13);
    for (const conv of convs) {
      const [x, w, b] = conv.input.map((i) => producer.get(i!));
      expect(x?.opType).toBe('DequantizeLinear');
      expect(producer.get(x!.input[0]!)?.opType).toBe('QuantizeLinear');
      expect(init.get(x!.input[2]!)?.dataType).toBe(2); // uint8 zero point
      expect(w?.opType).toBe('DequantizeLinear');
      const wq = init.get(w!.input[0]!)!;
      expect(wq.dataType).toBe(3); // int8
      expect(init.get(w!.input[1]!)!.dims).toEqual([wq.dims[0]]); // one scale per output channel
      expect(b?.opType).toBe('DequantizeLinear');
      expect(init.get(b!.input[0]!)!.dataType).toBe(6); // int32
      expect(consumers(conv.output[0]!).map((n) => n.opType)).toEqual(['QuantizeLinear']);
    }
    expect(g.input[0]!.type.tensorType.elemType).toBe(1);
    expect(g.input[0]!.type.tensorType.shape.dim.map((d) => d.dimParam ?? d.dimValue)).toEqual([
      'N',
      1,
      200,
      200,
    ]);
    expect(g.output[0]!.type.tensorType.elemType).toBe(1);
  });

  it('refuses to quantize without a range for every activation', () => {
    const partial = new Map([...ranges].filter(([k]) => k !== 'conv3.output'));
    expect(() => exportPrecisionOnnx(weights, { ...int8(), ranges: partial } as PrecisionTarget)).toThrow(
      'no calibrated range for activation conv3.output',
    );
  });

  it('calibration refuses frames that are not whole 200 x 200 images', async () => {
    await expect(calibrateActivations(weights, new Float32Array(100), { method: 'minmax' })).rejects.toThrow(
      CalibrationError,
    );
  });

  it('writes packages whose manifest records precision, scheme and calibration, and which load', async () => {
    for (const target of [{ kind: 'fp16' } as const, int8()]) {
      const { manifestPath } = await writeModelPackage({
        dir,
        name: `fixture-${target.kind}`,
        version: '0.1.0',
        weights,
        precision: target,
        provenance: { data: ['fixture'], rounds: 0, date: new Date(0).toISOString() },
      });
      const { manifest, onnx } = await loadModelPackage(manifestPath);
      expect(precisionOf(manifest)).toBe(target.kind);
      const g = decode(onnx);
      expect(g.input.map((i) => [i.name, i.type.tensorType.elemType])).toEqual([
        [manifest.onnx.inputName, 1],
      ]);
      expect(manifest.precision?.io).toBe('float32');
      if (manifest.precision?.kind === 'int8') {
        expect(manifest.precision.quantization).toEqual({
          format: 'QDQ',
          weights: 'int8 symmetric per-channel',
          activations: 'uint8',
          activationScheme: 'asymmetric per-tensor',
          bias: 'int32',
          ops: ['Conv'],
        });
        expect(manifest.precision.calibration).toEqual({
          method: 'minmax',
          samples: 4,
          data: ['fixture inputs'],
        });
      }
    }
  });

  it('a manifest that claims int8 without its calibration is refused', () => {
    expect(() =>
      parseManifest({
        ...JSON.parse(JSON.stringify({ precision: { kind: 'int8', io: 'float32' } })),
      }),
    ).toThrow(/precision/);
  });
});
