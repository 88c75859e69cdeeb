// Vehicle kinematics driven by geometry_msgs/Twist, as pure functions of state, command and dt.
import type { Twist } from '../nodes/runtime/messages.ts';

export interface Pose {
  x: number;
  y: number;
  /** Heading (rad), counter-clockwise from +x (REP 103). */
  yaw: number;
}

export interface VehicleState extends Pose {
  /** The speed and yaw rate actually applied in the last step, after limits. */
  v: number;
  omega: number;
  /** Ackermann: front wheel angle (rad); differential drive: 0. */
  steering: number;
}

export type Footprint =
  | { kind: 'circle'; radius: number }
  /** Centred on the pose, length along the heading. */
  | { kind: 'rect'; length: number; width: number };

interface Common {
  /** |linear.x| limit (m/s). */
  maxSpeed: number;
  /** |angular.z| limit (rad/s); also the scale of the steering label (sim/README.md). */
  maxAngularRate: number;
  footprint: Footprint;
}

export interface DiffDriveParams extends Common {
  kind: 'diff';
  /** Distance between the wheels (m). */
  wheelBase: number;
  /** Per-wheel speed limit (m/s): when a wheel would exceed it both are scaled, keeping the curvature. */
  maxWheelSpeed: number;
}

export interface AckermannParams extends Common {
  kind: 'ackermann';
  /** Front to rear axle (m). */
  wheelbase: number;
  maxSteeringAngle: number;
}

export type VehicleParams = DiffDriveParams | AckermannParams;

/** A small indoor robot: 0.3 m wide, as the tracks are sized for. */
export const DEFAULT_DIFF_DRIVE: DiffDriveParams = {
  kind: 'diff',
  wheelBase: 0.26,
  maxSpeed: 1,
  maxAngularRate: 2,
  maxWheelSpeed: 1.2,
  footprint: { kind: 'rect', length: 0.35, width: 0.3 },
};

export const DEFAULT_ACKERMANN: AckermannParams = {
  kind: 'ackermann',
  wheelbase: 0.26,
  maxSteeringAngle: (30 * Math.PI) / 180,
  maxSpeed: 1.5,
  maxAngularRate: 2,
  footprint: { kind: 'rect', length: 0.4, width: 0.3 },
};

export class VehicleParamsError extends Error {
  override readonly name = 'VehicleParamsError';
  constructor(
    readonly field: string,
    readonly value: number,
  ) {
    super(`vehicle ${field} = ${value} must be a positive finite number`);
  }
}

export function checkVehicleParams(p: VehicleParams): void {
  const fields: [string, number][] = [
    ['maxSpeed', p.maxSpeed],
    ['maxAngularRate', p.maxAngularRate],
    ...(p.kind === 'diff'
      ? ([
          ['wheelBase', p.wheelBase],
          ['maxWheelSpeed', p.maxWheelSpeed],
        ] as [string, number][])
      : ([
          ['wheelbase', p.wheelbase],
          ['maxSteeringAngle', p.maxSteeringAngle],
        ] as [string, number][])),
    ...(p.footprint.kind === 'circle'
      ? ([['footprint.radius', p.footprint.radius]] as [string, number][])
      : ([
          ['footprint.length', p.footprint.length],
          ['footprint.width', p.footprint.width],
        ] as [string, number][])),
  ];
  for (const [f, v] of fields) if (!(Number.isFinite(v) && v > 0)) throw new VehicleParamsError(f, v);
  if (p.kind === 'ackermann' && p.maxSteeringAngle >= Math.PI / 2)
    throw new VehicleParamsError('maxSteeringAngle', p.maxSteeringAngle);
}

const clamp = (v: number, lim: number): number => Math.max(-lim, Math.min(lim, v));

/** The speed, yaw rate and wheel angle the vehicle can realise for a command. */
export function applyLimits(twist: Twist, p: VehicleParams): { v: number; omega: number; steering: number } {
  const v = clamp(twist.linear.x, p.maxSpeed);
  let omega = clamp(twist.angular.z, p.maxAngularRate);
  if (p.kind === 'diff') {
    const half = (omega * p.wheelBase) / 2;
    const fastest = Math.max(Math.abs(v - half), Math.abs(v + half));
    const scale = fastest > p.maxWheelSpeed ? p.maxWheelSpeed / fastest : 1;
    return { v: v * scale, omega: omega * scale, steering: 0 };
  }
  // Bicycle model: yaw rate = v tan(delta) / L; a car cannot turn on the spot.
  if (v === 0) return { v: 0, omega: 0, steering: 0 };
  const steering = clamp(Math.atan((omega * p.wheelbase) / v), p.maxSteeringAngle);
  omega = (v * Math.tan(steering)) / p.wheelbase;
  return { v, omega: clamp(omega, p.maxAngularRate), steering };
}

/** One fixed step: constant speed and yaw rate over dtS, integrated exactly (a circular arc). */
export function step(state: Pose, twist: Twist, dtS: number, params: VehicleParams): VehicleState {
  const { v, omega, steering } = applyLimits(twist, params);
  const dYaw = omega * dtS;
  let x: number;
  let y: number;
  if (Math.abs(dYaw) < 1e-12) {
    x = state.x + v * dtS * Math.cos(state.yaw);
    y = state.y + v * dtS * Math.sin(state.yaw);
  } else {
    const r = v / omega;
    x = state.x + r * (Math.sin(state.yaw + dYaw) - Math.sin(state.yaw));
    y = state.y - r * (Math.cos(state.yaw + dYaw) - Math.cos(state.yaw));
  }
  return { x, y, yaw: wrapAngle(state.yaw + dYaw), v, omega, steering };
}

/** Into (-pi, pi]. */
export function wrapAngle(a: number): number {
  const w = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
  return w === -Math.PI ? Math.PI : w;
}
