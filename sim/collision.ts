// Footprint against walls and distractor faces, using the scene's uniform grid so a query looks
// at a handful of segments instead of hundreds.
import type { Scene } from './scene.ts';
import type { Footprint, Pose } from './vehicle.ts';

/** Index of a segment the footprint touches at this pose, or -1. */
export function collidingSegment(scene: Scene, pose: Pose, footprint: Footprint): number {
  const reach =
    footprint.kind === 'circle' ? footprint.radius : Math.hypot(footprint.length, footprint.width) / 2;
  const g = scene.grid;
  const c0 = Math.max(0, Math.floor((pose.x - reach - g.minX) / g.cell));
  const c1 = Math.min(g.cols - 1, Math.floor((pose.x + reach - g.minX) / g.cell));
  const r0 = Math.max(0, Math.floor((pose.y - reach - g.minY) / g.cell));
  const r1 = Math.min(g.rows - 1, Math.floor((pose.y + reach - g.minY) / g.cell));
  const s = scene.segments;
  const cs = Math.cos(pose.yaw);
  const sn = Math.sin(pose.yaw);
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      for (const i of g.cells[r * g.cols + c]!) {
        // Into the robot frame: x forward, y left.
        const ax = s.x0[i]! - pose.x;
        const ay = s.y0[i]! - pose.y;
        const bx = s.x1[i]! - pose.x;
        const by = s.y1[i]! - pose.y;
        const hit =
          footprint.kind === 'circle'
            ? pointSegmentDistance2(ax, ay, bx, by) <= footprint.radius ** 2
            : segmentHitsBox(
                ax * cs + ay * sn,
                -ax * sn + ay * cs,
                bx * cs + by * sn,
                -bx * sn + by * cs,
                footprint.length / 2,
                footprint.width / 2,
              );
        if (hit) return i;
      }
    }
  }
  // Outside the grid there is nothing to hit, but the robot has left the world.
  if (
    pose.x < g.minX ||
    pose.y < g.minY ||
    pose.x > g.minX + g.cols * g.cell ||
    pose.y > g.minY + g.rows * g.cell
  )
    return -2;
  return -1;
}

/** Squared distance from the origin to segment a-b. */
function pointSegmentDistance2(ax: number, ay: number, bx: number, by: number): number {
  const ex = bx - ax;
  const ey = by - ay;
  const len2 = ex * ex + ey * ey;
  const f = len2 === 0 ? 0 : Math.min(1, Math.max(0, -(ax * ex + ay * ey) / len2));
  const x = ax + ex * f;
  const y = ay + ey * f;
  return x * x + y * y;
}

/** Liang-Barsky: does segment a-b meet the box |x| <= hx, |y| <= hy? */
function segmentHitsBox(ax: number, ay: number, bx: number, by: number, hx: number, hy: number): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = bx - ax;
  const dy = by - ay;
  const clip = (p: number, q: number): boolean => {
    if (p === 0) return q >= 0;
    const t = q / p;
    if (p < 0) {
      if (t > t1) return false;
      if (t > t0) t0 = t;
    } else {
      if (t < t0) return false;
      if (t < t1) t1 = t;
    }
    return true;
  };
  return clip(-dx, ax + hx) && clip(dx, hx - ax) && clip(-dy, ay + hy) && clip(dy, hy - ay);
}
