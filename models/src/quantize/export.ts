// One entry for every precision's graph: float32 as exported, float16 with every weight and
// activation in half precision, int8 in QDQ form from calibrated ranges. Each comes with the
// precision block its manifest carries.
import { exportFadnetOnnx, type ExportOptions } from '../onnx/export.ts';
import type { WeightSet } from '../weights/weight-set.ts';
import type { Calibration, PrecisionSpec } from './precision.ts';
import { qdqConv, type ActivationType } from './qdq.ts';
import type { ActivationRange } from './ranges.ts';

export type PrecisionTarget =
  | { readonly kind: 'fp32' }
  | { readonly kind: 'fp16' }
  | {
      readonly kind: 'int8';
      readonly ranges: ReadonlyMap<string, ActivationRange>;
      readonly activations: ActivationType;
      readonly calibration: Calibration;
    };

export function exportPrecisionOnnx(
  weights: WeightSet,
  target: PrecisionTarget,
  options: ExportOptions = {},
): { onnx: Uint8Array; precision: PrecisionSpec } {
  switch (target.kind) {
    case 'fp32':
      return { onnx: exportFadnetOnnx(weights, options), precision: { kind: 'fp32', io: 'float32' } };
    case 'fp16':
      return {
        onnx: exportFadnetOnnx(weights, { ...options, floatType: 'float16' }),
        precision: { kind: 'fp16', io: 'float32', compute: 'float16' },
      };
    case 'int8':
      return {
        onnx: exportFadnetOnnx(weights, { ...options, conv: qdqConv(target.ranges, target.activations) }),
        precision: {
          kind: 'int8',
          io: 'float32',
          quantization: {
            format: 'QDQ',
            weights: 'int8 symmetric per-channel',
            activations: target.activations,
            activationScheme:
              target.activations === 'uint8' ? 'asymmetric per-tensor' : 'symmetric per-tensor',
            bias: 'int32',
            ops: ['Conv'],
          },
          calibration: target.calibration,
        },
      };
  }
}
