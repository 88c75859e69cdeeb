// Model packages by precision: float16 graphs, int8 QDQ graphs from calibrated activation
// ranges, and the manifest block that says which a package holds.
export { calibrateActivations } from './calibrate.ts';
export type { CalibrateOptions } from './calibrate.ts';
export { CalibrationError, QuantizeError } from './errors.ts';
export { exportPrecisionOnnx } from './export.ts';
export type { PrecisionTarget } from './export.ts';
export { PRECISIONS, PrecisionSpecSchema, precisionOf } from './precision.ts';
export type { Calibration, Precision, PrecisionSpec } from './precision.ts';
export {
  ACTIVATION_TYPES,
  activationKey,
  activationParams,
  quantizeBias,
  quantizeWeightsPerChannel,
} from './qdq.ts';
export type { ActivationType, QuantParams } from './qdq.ts';
export {
  CALIBRATION_METHODS,
  entropyThresholdBin,
  HistogramObserver,
  MinMaxObserver,
  percentileRange,
} from './ranges.ts';
export type { ActivationRange, CalibrationMethod } from './ranges.ts';
