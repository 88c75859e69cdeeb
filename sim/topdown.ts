// A top-down picture of a world with trajectories drawn over it, as RGBA bytes (no I/O).
import { buildFloor } from './render/floor.ts';
import { buildScene, type Scene } from './scene.ts';
import type { Rgb, World } from './world/schema.ts';

export interface Trajectory {
  points: readonly (readonly [number, number])[];
  colour: Rgb | readonly [number, number, number];
}

export interface TopDownOptions {
  /** Pixels per metre. */
  scale?: number;
  /** Border around the walls (m). */
  margin?: number;
  /** Line width of trajectories (px). */
  lineWidth?: number;
}

export interface TopDownPicture {
  width: number;
  height: number;
  /** Row-major RGBA, top row = largest y (north up). */
  rgba: Uint8Array;
}

export function renderTopDown(
  world: World | Scene,
  trajectories: readonly Trajectory[],
  opts: TopDownOptions = {},
): TopDownPicture {
  const scene = 'segments' in world ? world : buildScene(world);
  const scale = opts.scale ?? 40;
  const margin = opts.margin ?? 0.5;
  const b = scene.bounds;
  const x0 = b.minX - margin;
  const y1 = b.maxY + margin;
  const width = Math.ceil((b.maxX + margin - x0) * scale);
  const height = Math.ceil((y1 - (b.minY - margin)) * scale);
  const rgba = new Uint8Array(width * height * 4);
  const px = (x: number): number => (x - x0) * scale;
  const py = (y: number): number => (y1 - y) * scale;

  // The floor raster already holds the lane and markings; sample it at each pixel centre.
  const floor = buildFloor(scene);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const x = x0 + (i + 0.5) / scale;
      const y = y1 - (j + 0.5) / scale;
      const fi = Math.floor((x - floor.minX) / floor.res);
      const fj = Math.floor((y - floor.minY) / floor.res);
      const t = (fj * floor.width + fi) * 3;
      const o = (j * width + i) * 4;
      rgba[o] = floor.rgb[t] ?? 0;
      rgba[o + 1] = floor.rgb[t + 1] ?? 0;
      rgba[o + 2] = floor.rgb[t + 2] ?? 0;
      rgba[o + 3] = 255;
    }
  }
  const dot = (cx: number, cy: number, r: number, c: readonly number[]): void => {
    for (let j = Math.floor(cy - r); j <= Math.ceil(cy + r); j++) {
      for (let i = Math.floor(cx - r); i <= Math.ceil(cx + r); i++) {
        if (i < 0 || j < 0 || i >= width || j >= height || (i + 0.5 - cx) ** 2 + (j + 0.5 - cy) ** 2 > r * r)
          continue;
        const o = (j * width + i) * 4;
        rgba[o] = c[0]!;
        rgba[o + 1] = c[1]!;
        rgba[o + 2] = c[2]!;
      }
    }
  };
  const line = (ax: number, ay: number, bx: number, by: number, w: number, c: readonly number[]): void => {
    const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) * 2));
    for (let k = 0; k <= n; k++) dot(ax + ((bx - ax) * k) / n, ay + ((by - ay) * k) / n, w / 2, c);
  };

  // Centreline thin and grey, so markings stay visible under it.
  const c = scene.centreline;
  for (let i = 0; i < c.n; i += 2) {
    const k = (i + 2) % c.n;
    line(px(c.xs[i]!), py(c.ys[i]!), px(c.xs[k]!), py(c.ys[k]!), 1, [150, 150, 150]);
  }
  const s = scene.segments;
  for (let i = 0; i < s.count; i++) {
    const wallColour = s.isDistractor[i] === 1 ? [200, 120, 20] : [30, 30, 30];
    line(px(s.x0[i]!), py(s.y0[i]!), px(s.x1[i]!), py(s.y1[i]!), 3, wallColour);
  }
  for (const t of trajectories) {
    const w = opts.lineWidth ?? 2;
    for (let i = 1; i < t.points.length; i++) {
      const a = t.points[i - 1]!;
      const p = t.points[i]!;
      line(px(a[0]), py(a[1]), px(p[0]), py(p[1]), w, t.colour);
    }
    const first = t.points[0];
    if (first !== undefined) dot(px(first[0]), py(first[1]), w * 2, t.colour);
  }
  return { width, height, rgba };
}
