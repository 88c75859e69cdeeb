// The expert driver: pure pursuit on the centreline. Its steering label is what FADNet learns to
// predict: angular.z / maxAngularRate, in [-1, 1] (sim/README.md, "Steering label").
import type { Twist } from '../nodes/runtime/messages.ts';
import { pointAt, type Centreline } from './track.ts';
import type { Pose } from './vehicle.ts';

export interface ExpertParams {
  /** Distance ahead along the centreline of the point chased (m). */
  lookahead: number;
  /** Commanded forward speed (m/s). */
  speed: number;
  /** The vehicle's yaw-rate limit, which scales the label. */
  maxAngularRate: number;
}

export const DEFAULT_EXPERT: Omit<ExpertParams, 'maxAngularRate'> = { lookahead: 0.8, speed: 0.5 };

export interface ExpertCommand {
  /** Normalised steering in [-1, 1]: positive turns left (counter-clockwise). */
  steering: number;
  twist: Twist;
}

/**
 * Pure pursuit: the arc through the robot and a point `lookahead` metres further along the
 * centreline from the robot's own projection `s` has curvature 2 y / d^2 (y: the point's lateral
 * offset in the robot frame, d: its distance); yaw rate = speed * curvature.
 */
export function purePursuit(c: Centreline, pose: Pose, s: number, p: ExpertParams): ExpertCommand {
  const target = pointAt(c, s + p.lookahead);
  const dx = target.x - pose.x;
  const dy = target.y - pose.y;
  const lateral = -Math.sin(pose.yaw) * dx + Math.cos(pose.yaw) * dy;
  const d2 = dx * dx + dy * dy;
  const curvature = d2 > 1e-9 ? (2 * lateral) / d2 : 0;
  const omega = Math.max(-p.maxAngularRate, Math.min(p.maxAngularRate, p.speed * curvature));
  return {
    steering: omega / p.maxAngularRate,
    twist: { linear: { x: p.speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: omega } },
  };
}

/** The Twist a steering label stands for at a given speed (the inverse of the label's definition). */
export function twistFromSteering(steering: number, speed: number, maxAngularRate: number): Twist {
  const s = Math.max(-1, Math.min(1, steering));
  return { linear: { x: speed, y: 0, z: 0 }, angular: { x: 0, y: 0, z: s * maxAngularRate } };
}
