// Calibration through ONNX Runtime: the float32 graph with every convolution's input and output
// exposed as graph outputs runs over real frames, and the observers turn what it saw into
// activation ranges. The frames are model inputs already preprocessed as the manifest says.
import * as ort from 'onnxruntime-node';
import type { FrameSize } from '../fadnet/geometry.ts';
import { FADNET_INPUT_SPEC } from '../input-spec.ts';
import { exportFadnetOnnx, ONNX_INPUT_NAME, plainConv } from '../onnx/export.ts';
import type { WeightSet } from '../weights/weight-set.ts';
import { CalibrationError } from './errors.ts';
import { probingConv } from './qdq.ts';
import {
  HistogramObserver,
  MinMaxObserver,
  needsHistogram,
  type ActivationRange,
  type CalibrationMethod,
} from './ranges.ts';

export interface CalibrateOptions {
  readonly method: CalibrationMethod;
  /** The frames' size, the model's input spec's (FADNET_INPUT_SPEC's unless said). */
  readonly input?: FrameSize;
  /** Frames per ONNX Runtime call (the probed outputs of conv1 are 1.3 MB a frame). */
  readonly batch?: number;
  readonly onProgress?: (pass: number, done: number, total: number) => void;
}

/** Activation range per calibration key (`<layer>.input`, `<layer>.output`). */
export async function calibrateActivations(
  weights: WeightSet,
  frames: Float32Array,
  options: CalibrateOptions,
): Promise<Map<string, ActivationRange>> {
  const { height, width } = options.input ?? FADNET_INPUT_SPEC;
  const frame = height * width;
  const n = frames.length / frame;
  if (!Number.isInteger(n) || n < 1) {
    throw new CalibrationError(
      `calibration needs whole 1 x ${height} x ${width} frames, got ${frames.length} values`,
    );
  }
  const bad = frames.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new CalibrationError(`calibration frame ${Math.floor(bad / frame)} holds a non-finite value`);
  const probes = new Map<string, string>();
  const outputs = (): { name: string }[] =>
    [...new Set(probes.values())].filter((t) => t !== ONNX_INPUT_NAME).map((name) => ({ name }));
  const onnx = exportFadnetOnnx(weights, {
    conv: probingConv(probes, plainConv),
    extraOutputs: outputs,
    input: { height, width },
  });
  const session = await ort.InferenceSession.create(onnx, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const batch = Math.max(1, options.batch ?? 8);
  const pass = async (index: number, observe: (key: string, values: Float32Array) => void): Promise<void> => {
    for (let start = 0; start < n; start += batch) {
      const count = Math.min(batch, n - start);
      const x = frames.subarray(start * frame, (start + count) * frame);
      const result = await session.run({
        [ONNX_INPUT_NAME]: new ort.Tensor('float32', x, [count, 1, height, width]),
      });
      for (const [key, tensor] of probes) {
        const values = tensor === ONNX_INPUT_NAME ? x : result[tensor]?.data;
        if (!(values instanceof Float32Array))
          throw new CalibrationError(`probe ${tensor} gave no float32 values`);
        observe(key, values);
      }
      options.onProgress?.(index, start + count, n);
    }
  };
  try {
    const minMax = new MinMaxObserver();
    await pass(1, (k, v) => minMax.observe(k, v));
    const bounds = minMax.ranges();
    if (!needsHistogram(options.method)) return bounds;
    const hist = new HistogramObserver(bounds);
    await pass(2, (k, v) => hist.observe(k, v));
    return hist.ranges(options.method as Exclude<CalibrationMethod, 'minmax'>);
  } finally {
    await session.release();
  }
}
