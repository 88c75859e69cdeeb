// Typed errors of quantization: a calibration that cannot give a range, a package that cannot
// be quantized, a precision the manifest and the graph disagree on.

export class QuantizeError extends Error {
  override readonly name = 'QuantizeError';
}

/** Calibration data that cannot calibrate: no frames, frames of the wrong size, a bad source. */
export class CalibrationError extends Error {
  override readonly name = 'CalibrationError';
}
