// A world turned into geometry: the centreline, and every vertical surface (walls and distractor
// faces) as a 2D segment with a height, a texture coordinate and a light level. The renderer and
// the collision check both work on these segments.
import {
  buildCentreline,
  minRadius,
  pointAt,
  project,
  selfApproach,
  TrackGeometryError,
  type Centreline,
} from './track.ts';
import type { Distractor, Texture, World } from './world/schema.ts';

/** Tracks tighter than this cannot be followed by a 0.3 m robot at 0.5 m/s without skidding. */
export const MIN_TRACK_RADIUS_M = 1;
const WALL_STRIDE = 4;
const GRID_CELL_M = 0.5;

export interface Segments {
  readonly count: number;
  readonly x0: Float64Array;
  readonly y0: Float64Array;
  readonly x1: Float64Array;
  readonly y1: Float64Array;
  /** Texture coordinate (m along the surface) at the first end. */
  readonly u0: Float64Array;
  readonly height: Float64Array;
  /** Index into Scene.surfaces. */
  readonly surface: Int32Array;
  /** Diffuse light level of the face, ambient plus sun. */
  readonly light: Float64Array;
  /** 1 for distractor faces, 0 for walls: distractors do not hide what is above their top. */
  readonly isDistractor: Uint8Array;
}

export interface Scene {
  readonly world: World;
  readonly centreline: Centreline;
  readonly segments: Segments;
  /** Surface textures: 0 is the walls, 1 + i is distractor i. */
  readonly surfaces: readonly { texture: Texture; height: number }[];
  /** Footprints of distractors (closed polygons), for pictures. */
  readonly distractorPolygons: readonly (readonly [number, number][])[];
  readonly bounds: { minX: number; minY: number; maxX: number; maxY: number };
  readonly grid: CollisionGrid;
  /** Light level of the (horizontal) floor. */
  readonly floorLight: number;
}

export interface CollisionGrid {
  readonly minX: number;
  readonly minY: number;
  readonly cols: number;
  readonly rows: number;
  readonly cell: number;
  readonly cells: readonly Int32Array[];
}

export function buildScene(world: World): Scene {
  const c = buildCentreline(world.track);
  const { radius, s } = minRadius(c);
  const offset = world.walls.offset;
  const needed = Math.max(MIN_TRACK_RADIUS_M, offset * 1.1);
  if (radius < needed) {
    throw new TrackGeometryError(
      'track.points',
      `the centreline bends with radius ${radius.toFixed(2)} m at ${s.toFixed(1)} m along the track; ` +
        `at least ${needed.toFixed(2)} m is needed (drivable, and room for the inner wall at ${offset} m)`,
    );
  }
  if (world.track.width / 2 >= offset) {
    throw new TrackGeometryError(
      'walls.offset',
      `walls at ${offset} m are inside the lane (width ${world.track.width} m)`,
    );
  }
  const close = selfApproach(c, 2 * offset + 0.1, Math.PI * (offset + 0.3));
  if (close !== undefined) {
    throw new TrackGeometryError(
      'track.points',
      `the track passes within ${close.distance.toFixed(2)} m of itself (at ${close.s1.toFixed(1)} m and ` +
        `${close.s2.toFixed(1)} m along it); walls at ${offset} m need ${(2 * offset + 0.1).toFixed(2)} m`,
    );
  }

  const { ambient, sun } = world.lighting;
  const az = (sun.azimuthDeg * Math.PI) / 180;
  const el = (sun.elevationDeg * Math.PI) / 180;
  const sunX = Math.cos(az) * Math.cos(el);
  const sunY = Math.sin(az) * Math.cos(el);
  const faceLight = (nx: number, ny: number): number =>
    ambient + sun.intensity * Math.max(0, nx * sunX + ny * sunY);

  const seg: SegmentList = new SegmentList();
  // Walls: offsets of the centreline, one per side, facing the lane.
  for (const side of [1, -1]) {
    let u = 0;
    for (let i = 0; i < c.n; i += WALL_STRIDE) {
      const j = Math.min(i + WALL_STRIDE, c.n) % c.n;
      const ax = c.xs[i]! - c.ty[i]! * offset * side;
      const ay = c.ys[i]! + c.tx[i]! * offset * side;
      const bx = c.xs[j]! - c.ty[j]! * offset * side;
      const by = c.ys[j]! + c.tx[j]! * offset * side;
      const len = Math.hypot(bx - ax, by - ay);
      // The normal towards the lane is the opposite of the side's offset direction.
      const light = faceLight(c.ty[i]! * side, -c.tx[i]! * side);
      seg.add(ax, ay, bx, by, u, world.walls.height, 0, light, 0);
      u += len;
    }
  }

  const surfaces: { texture: Texture; height: number }[] = [
    { texture: world.walls.texture, height: world.walls.height },
  ];
  const polygons: [number, number][][] = [];
  world.distractors.forEach((d, k) => {
    const poly = distractorPolygon(d, c);
    const height = d.kind === 'box' ? d.size[2] : d.height;
    const clearance = world.track.width / 2 + 0.05;
    for (let i = 0; i < poly.length; i++) {
      const a = poly[i]!;
      const b = poly[(i + 1) % poly.length]!;
      for (let f = 0; f <= 1; f += 0.1) {
        const p = project(c, a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f);
        if (Math.abs(p.cte) < clearance) {
          throw new TrackGeometryError(
            `distractors.${k}`,
            `${d.kind} reaches ${Math.abs(p.cte).toFixed(2)} m from the centreline at ${p.s.toFixed(1)} m ` +
              `along the track; distractors must stay ${clearance.toFixed(2)} m away (outside the lane)`,
          );
        }
      }
    }
    surfaces.push({ texture: d.texture, height });
    let u = 0;
    for (let i = 0; i < poly.length; i++) {
      const a = poly[i]!;
      const b = poly[(i + 1) % poly.length]!;
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
      // Polygons are counter-clockwise, so the outward normal is the edge turned clockwise.
      seg.add(
        a[0],
        a[1],
        b[0],
        b[1],
        u,
        height,
        k + 1,
        faceLight((b[1] - a[1]) / len, -(b[0] - a[0]) / len),
        1,
      );
      u += len;
    }
    polygons.push(poly);
  });

  const segments = seg.freeze();
  const bounds = boundsOf(segments);
  return {
    world,
    centreline: c,
    segments,
    surfaces,
    distractorPolygons: polygons,
    bounds,
    grid: buildGrid(segments, bounds),
    floorLight: ambient + sun.intensity * Math.sin(el),
  };
}

function distractorPolygon(d: Distractor, c: Centreline): [number, number][] {
  let cx: number;
  let cy: number;
  let yaw = (d.yawDeg * Math.PI) / 180;
  if (Array.isArray(d.at)) [cx, cy] = d.at as [number, number];
  else {
    const p = pointAt(c, d.at.along);
    cx = p.x - Math.sin(p.yaw) * d.at.offset;
    cy = p.y + Math.cos(p.yaw) * d.at.offset;
    yaw += p.yaw;
  }
  const local: [number, number][] = [];
  switch (d.kind) {
    case 'box':
      local.push(...rect(d.size[0], d.size[1]));
      break;
    case 'poster':
      local.push(...rect(0.03, d.width));
      break;
    case 'cylinder':
    case 'cone': {
      const r = d.kind === 'cone' ? d.radius * 0.6 : d.radius;
      for (let i = 0; i < 12; i++)
        local.push([r * Math.cos((i * Math.PI) / 6), r * Math.sin((i * Math.PI) / 6)]);
      break;
    }
  }
  const cs = Math.cos(yaw);
  const sn = Math.sin(yaw);
  return local.map(([x, y]) => [cx + x * cs - y * sn, cy + x * sn + y * cs]);
}

const rect = (l: number, w: number): [number, number][] => [
  [-l / 2, -w / 2],
  [l / 2, -w / 2],
  [l / 2, w / 2],
  [-l / 2, w / 2],
];

class SegmentList {
  readonly #v: number[][] = [[], [], [], [], [], [], [], [], []];
  add(...v: [number, number, number, number, number, number, number, number, number]): void {
    v.forEach((x, i) => this.#v[i]!.push(x));
  }
  freeze(): Segments {
    const f = (i: number): Float64Array => Float64Array.from(this.#v[i]!);
    return {
      count: this.#v[0]!.length,
      x0: f(0),
      y0: f(1),
      x1: f(2),
      y1: f(3),
      u0: f(4),
      height: f(5),
      surface: Int32Array.from(this.#v[6]!),
      light: f(7),
      isDistractor: Uint8Array.from(this.#v[8]!),
    };
  }
}

function boundsOf(s: Segments): Scene['bounds'] {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < s.count; i++) {
    minX = Math.min(minX, s.x0[i]!, s.x1[i]!);
    maxX = Math.max(maxX, s.x0[i]!, s.x1[i]!);
    minY = Math.min(minY, s.y0[i]!, s.y1[i]!);
    maxY = Math.max(maxY, s.y0[i]!, s.y1[i]!);
  }
  return { minX, minY, maxX, maxY };
}

function buildGrid(s: Segments, b: Scene['bounds']): CollisionGrid {
  const minX = b.minX - 1;
  const minY = b.minY - 1;
  const cols = Math.ceil((b.maxX + 1 - minX) / GRID_CELL_M);
  const rows = Math.ceil((b.maxY + 1 - minY) / GRID_CELL_M);
  const lists: number[][] = Array.from({ length: cols * rows }, () => []);
  for (let i = 0; i < s.count; i++) {
    const c0 = Math.floor((Math.min(s.x0[i]!, s.x1[i]!) - minX) / GRID_CELL_M);
    const c1 = Math.floor((Math.max(s.x0[i]!, s.x1[i]!) - minX) / GRID_CELL_M);
    const r0 = Math.floor((Math.min(s.y0[i]!, s.y1[i]!) - minY) / GRID_CELL_M);
    const r1 = Math.floor((Math.max(s.y0[i]!, s.y1[i]!) - minY) / GRID_CELL_M);
    for (let r = r0; r <= r1; r++) for (let col = c0; col <= c1; col++) lists[r * cols + col]!.push(i);
  }
  return { minX, minY, cols, rows, cell: GRID_CELL_M, cells: lists.map((l) => Int32Array.from(l)) };
}
