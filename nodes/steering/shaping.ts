// Command shaping: FADNet's raw steering value to a velocity command. A pure function of the
// previous state, the new value and the elapsed time (donkeycar's "parts" idea), so it runs
// the same in the simulator, in tests and on the robot.
import type { Twist } from '../runtime/messages.ts';

export interface ShapingParams {
  /** Angular rate (rad/s) per unit of raw steering. */
  readonly steeringGain: number;
  /** +1 or -1: new robots often turn the wrong way until this is flipped. */
  readonly steeringSign: 1 | -1;
  /** Added to the raw value before the gain (a model or camera-mount bias). */
  readonly steeringOffset: number;
  /** Weight of the new value in the exponential smoothing, (0, 1]; 1 = no smoothing. */
  readonly smoothing: number;
  /** Clamp on |angular.z| (rad/s). */
  readonly maxAngularRate: number;
  /** Forward speed when going straight (m/s). */
  readonly cruiseSpeed: number;
  /** Fraction of cruise speed taken off at full steering (|angular| = maxAngularRate). */
  readonly turnSlowdown: number;
  /** Acceleration limits (per second); they bound every change of the command. */
  readonly maxLinearAccel: number;
  readonly maxAngularAccel: number;
}

export interface ShapingState {
  readonly smoothed: number;
  readonly command: Twist;
}

export const initialShapingState = (): ShapingState => ({
  smoothed: 0,
  command: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } },
});

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Moves `from` toward `to` by at most rate * dt. */
export function slew(from: number, to: number, rate: number, dtS: number): number {
  const step = rate * Math.max(0, dtS);
  return from + clamp(to - from, -step, step);
}

export function shapeCommand(
  state: ShapingState,
  rawSteering: number,
  dtS: number,
  p: ShapingParams,
): ShapingState {
  const target = p.steeringSign * p.steeringGain * (rawSteering + p.steeringOffset);
  const smoothed = p.smoothing * target + (1 - p.smoothing) * state.smoothed;
  const angular = clamp(smoothed, -p.maxAngularRate, p.maxAngularRate);
  const turnFraction = p.maxAngularRate > 0 ? Math.abs(angular) / p.maxAngularRate : 0;
  const speed = p.cruiseSpeed * (1 - p.turnSlowdown * turnFraction);
  return {
    smoothed,
    command: {
      linear: { x: slew(state.command.linear.x, speed, p.maxLinearAccel, dtS), y: 0, z: 0 },
      angular: { x: 0, y: 0, z: slew(state.command.angular.z, angular, p.maxAngularAccel, dtS) },
    },
  };
}

/**
 * The stop ramp: scales the command toward zero so it reaches zero within rampS from full
 * scale, never faster than the robot can brake and never slower than the ramp.
 */
export function rampToZero(command: Twist, fullScale: Twist, rampS: number, dtS: number): Twist {
  const lin = Math.abs(fullScale.linear.x) / Math.max(1e-6, rampS);
  const ang = Math.abs(fullScale.angular.z) / Math.max(1e-6, rampS);
  return {
    linear: { x: slew(command.linear.x, 0, lin, dtS), y: 0, z: 0 },
    angular: { x: 0, y: 0, z: slew(command.angular.z, 0, ang, dtS) },
  };
}
