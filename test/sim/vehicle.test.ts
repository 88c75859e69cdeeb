import { describe, expect, it } from 'vitest';
import type { Twist } from '../../nodes/runtime/messages.ts';
import { collidingSegment } from '../../sim/collision.ts';
import { buildScene } from '../../sim/scene.ts';
import { pointAt } from '../../sim/track.ts';
import {
  applyLimits,
  DEFAULT_ACKERMANN,
  DEFAULT_DIFF_DRIVE,
  step,
  VehicleParamsError,
  checkVehicleParams,
  type Pose,
} from '../../sim/vehicle.ts';
import { loadWorld } from '../../sim/world/load.ts';

const twist = (v: number, w: number): Twist => ({
  linear: { x: v, y: 0, z: 0 },
  angular: { x: 0, y: 0, z: w },
});
const origin: Pose = { x: 0, y: 0, yaw: 0 };

describe('differential drive', () => {
  it('drives straight: 0.5 m/s for 2 s is 1 m along the heading', () => {
    const s = step({ x: 1, y: 2, yaw: Math.PI / 2 }, twist(0.5, 0), 2, DEFAULT_DIFF_DRIVE);
    expect(s.x).toBeCloseTo(1, 12);
    expect(s.y).toBeCloseTo(3, 12);
    expect(s.yaw).toBe(Math.PI / 2);
    expect([s.v, s.omega, s.steering]).toEqual([0.5, 0, 0]);
  });

  it('turns in place: 1 rad/s for pi/2 s is a quarter turn without moving', () => {
    const s = step(origin, twist(0, 1), Math.PI / 2, DEFAULT_DIFF_DRIVE);
    expect([s.x, s.y]).toEqual([0, 0]);
    expect(s.yaw).toBeCloseTo(Math.PI / 2, 12);
  });

  it('follows a circle of radius v / omega exactly', () => {
    // 0.5 m/s at 0.5 rad/s: radius 1 m, a half circle in 2 pi seconds ends at (0, 2) facing back.
    const s = step(origin, twist(0.5, 0.5), 2 * Math.PI, DEFAULT_DIFF_DRIVE);
    expect(s.x).toBeCloseTo(0, 12);
    expect(s.y).toBeCloseTo(2, 12);
    expect(s.yaw).toBeCloseTo(Math.PI, 12);
  });

  it('clamps speed and yaw rate, and scales both to the wheel limit keeping the curvature', () => {
    expect(applyLimits(twist(3, 0), DEFAULT_DIFF_DRIVE)).toEqual({ v: 1, omega: 0, steering: 0 });
    expect(applyLimits(twist(0, -5), DEFAULT_DIFF_DRIVE)).toEqual({ v: 0, omega: -2, steering: 0 });
    // 1 m/s and 2 rad/s: outer wheel 1 + 2 * 0.13 = 1.26 m/s > 1.2, so both scale by 1.2 / 1.26.
    const l = applyLimits(twist(1, 2), DEFAULT_DIFF_DRIVE);
    expect(l.v).toBeCloseTo(1.2 / 1.26, 12);
    expect(l.omega / l.v).toBeCloseTo(2, 12);
  });
});

describe('Ackermann', () => {
  it('converts yaw rate to a wheel angle: tan(delta) = omega L / v', () => {
    const l = applyLimits(twist(0.5, 0.5), DEFAULT_ACKERMANN);
    expect(l.steering).toBeCloseTo(Math.atan(0.26), 12);
    expect(l.omega).toBeCloseTo(0.5, 12);
  });

  it('saturates at the steering limit and cannot turn on the spot', () => {
    const l = applyLimits(twist(0.5, 2), DEFAULT_ACKERMANN);
    expect(l.steering).toBeCloseTo(Math.PI / 6, 12);
    expect(l.omega).toBeCloseTo((0.5 * Math.tan(Math.PI / 6)) / 0.26, 12);
    expect(step(origin, twist(0, 1), 1, DEFAULT_ACKERMANN)).toEqual({
      ...origin,
      v: 0,
      omega: 0,
      steering: 0,
    });
  });

  it('refuses parameters that make no sense', () => {
    expect(() => checkVehicleParams({ ...DEFAULT_ACKERMANN, wheelbase: 0 })).toThrow(
      new VehicleParamsError('wheelbase', 0),
    );
    expect(new VehicleParamsError('wheelbase', 0).message).toBe(
      'vehicle wheelbase = 0 must be a positive finite number',
    );
  });
});

describe('collision', () => {
  const scene = buildScene(loadWorld('office-loop'));
  // 5 m along is on the first straight (after the 2.36 m corner arc): the track runs along +x
  // at y = 0, left wall at y = +0.9 m, right at -0.9 m.
  const start = pointAt(scene.centreline, 5);
  const at = (dy: number, yaw = 0): Pose => ({ x: start.x, y: start.y + dy, yaw });

  it('is clear on the centreline and touches a wall at the footprint edge', () => {
    const rect = DEFAULT_DIFF_DRIVE.footprint; // 0.35 x 0.3: half width 0.15
    expect(collidingSegment(scene, at(0), rect)).toBe(-1);
    expect(collidingSegment(scene, at(0.74), rect)).toBe(-1);
    expect(collidingSegment(scene, at(0.76), rect)).toBeGreaterThanOrEqual(0);
    // Turned sideways, the half length 0.175 m reaches 0.915 m: into the wall.
    expect(collidingSegment(scene, at(0.74, Math.PI / 2), rect)).toBeGreaterThanOrEqual(0);
    expect(collidingSegment(scene, at(-0.8), { kind: 'circle', radius: 0.05 })).toBe(-1);
    expect(collidingSegment(scene, at(-0.86), { kind: 'circle', radius: 0.05 })).toBeGreaterThanOrEqual(0);
  });

  it('hits a distractor', () => {
    // office-loop distractor 0: a box 0.4 x 0.3 at 4 m along, 0.62 m left.
    const p = pointAt(scene.centreline, 4);
    const hit = collidingSegment(scene, { x: p.x, y: p.y + 0.45, yaw: 0 }, DEFAULT_DIFF_DRIVE.footprint);
    expect(scene.segments.isDistractor[hit]).toBe(1);
  });
});
