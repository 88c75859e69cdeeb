// Differential-drive kinematics: /cmd_vel (v, w) to wheel speeds and encoder ticks back to
// pose. Pure functions of their inputs (docs/style.md, "Control parts").
import type { BridgeConfig } from './config.ts';

export type Geometry = Pick<
  BridgeConfig,
  'wheelBase' | 'wheelRadius' | 'maxWheelSpeed' | 'maxLinear' | 'maxAngular' | 'invertLeft' | 'invertRight'
>;

export interface WheelCommand {
  /** mrad/s as sent on the wire, inversion applied. */
  readonly leftMradS: number;
  readonly rightMradS: number;
}

const clamp = (x: number, limit: number): number => Math.max(-limit, Math.min(limit, x));

/** Callers pass finite numbers; the bridge rejects non-finite /cmd_vel before this. */
export function wheelCommand(linear: number, angular: number, g: Geometry): WheelCommand {
  const v = clamp(linear, g.maxLinear);
  const w = clamp(angular, g.maxAngular);
  let left = (v - (w * g.wheelBase) / 2) / g.wheelRadius;
  let right = (v + (w * g.wheelBase) / 2) / g.wheelRadius;
  // Scale both wheels together: clipping one alone would turn a curve into a different curve.
  const peak = Math.max(Math.abs(left), Math.abs(right));
  if (peak > g.maxWheelSpeed) {
    left *= g.maxWheelSpeed / peak;
    right *= g.maxWheelSpeed / peak;
  }
  const toWire = (radS: number, invert: boolean): number => {
    const mrad = Math.round((invert ? -radS : radS) * 1000);
    return mrad === 0 ? 0 : clamp(mrad, 32767); // no -0 on the wire or in tests
  };
  return { leftMradS: toWire(left, g.invertLeft), rightMradS: toWire(right, g.invertRight) };
}

export interface OdometryEstimate {
  readonly x: number;
  readonly y: number;
  readonly yaw: number;
  /** Body-frame forward speed, m/s, and yaw rate, rad/s, over the last interval. */
  readonly vx: number;
  readonly wz: number;
}

/** Integrates cumulative encoder counts (which wrap at 2^32) into a planar pose. */
export class OdometryIntegrator {
  readonly #g: Geometry;
  readonly #metresPerTick: number;
  #last: { ms: number; left: number; right: number } | undefined;
  #pose = { x: 0, y: 0, yaw: 0 };

  constructor(geometry: Geometry, ticksPerRev: number) {
    this.#g = geometry;
    this.#metresPerTick = (2 * Math.PI * geometry.wheelRadius) / ticksPerRev;
  }

  /** Forgets the baseline (after a reconnect the MCU's counters may have restarted). */
  rebase(): void {
    this.#last = undefined;
  }

  /** Returns the new estimate, or undefined for the first sample, which only sets the baseline. */
  update(mcuMs: number, leftTicks: number, rightTicks: number): OdometryEstimate | undefined {
    const last = this.#last;
    this.#last = { ms: mcuMs, left: leftTicks, right: rightTicks };
    if (last === undefined) return undefined;
    // `| 0` gives the signed 32-bit difference, right across a counter wrap.
    let dl = ((leftTicks - last.left) | 0) * this.#metresPerTick;
    let dr = ((rightTicks - last.right) | 0) * this.#metresPerTick;
    if (this.#g.invertLeft) dl = -dl;
    if (this.#g.invertRight) dr = -dr;
    const ds = (dl + dr) / 2;
    const dyaw = (dr - dl) / this.#g.wheelBase;
    const p = this.#pose;
    // Midpoint heading: exact for constant curvature to second order, cheap.
    const heading = p.yaw + dyaw / 2;
    p.x += ds * Math.cos(heading);
    p.y += ds * Math.sin(heading);
    p.yaw = Math.atan2(Math.sin(p.yaw + dyaw), Math.cos(p.yaw + dyaw));
    const dt = ((mcuMs - last.ms) >>> 0) / 1000;
    return { x: p.x, y: p.y, yaw: p.yaw, vx: dt > 0 ? ds / dt : 0, wz: dt > 0 ? dyaw / dt : 0 };
  }
}
