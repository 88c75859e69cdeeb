// Track centreline geometry: a closed curve resampled at uniform arc length, so that progress,
// lookahead and markings are all plain index arithmetic.
import type { World } from './world/schema.ts';

/** Spacing of centreline samples (m); fine enough that chords and arcs differ by < 0.1 mm. */
export const CENTRELINE_STEP_M = 0.05;

export interface Centreline {
  /** Sample count; sample i sits at arc length i * ds and sample n wraps to sample 0. */
  readonly n: number;
  readonly ds: number;
  readonly length: number;
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  /** Unit tangents (driving direction). */
  readonly tx: Float64Array;
  readonly ty: Float64Array;
}

/** A track the loader can build but nobody can drive; `field` names the world file field. */
export class TrackGeometryError extends Error {
  override readonly name = 'TrackGeometryError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

type TrackSpec = World['track'];
type P = readonly [number, number];

export function buildCentreline(track: TrackSpec): Centreline {
  const dense = track.kind === 'spline' ? splinePoints(track.points) : roundedPolygon(track);
  return resample(dense);
}

function splinePoints(points: readonly P[]): P[] {
  const out: P[] = [];
  const n = points.length;
  const at = (i: number): P => points[((i % n) + n) % n]!;
  for (let i = 0; i < n; i++) {
    const [p0, p1, p2, p3] = [at(i - 1), at(i), at(i + 1), at(i + 2)];
    for (let k = 0; k < 64; k++) {
      const t = k / 64;
      const t2 = t * t;
      const t3 = t2 * t;
      const f = (a: number, b: number, c: number, d: number): number =>
        0.5 * (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (-a + 3 * b - 3 * c + d) * t3);
      out.push([f(p0[0], p1[0], p2[0], p3[0]), f(p0[1], p1[1], p2[1], p3[1])]);
    }
  }
  return out;
}

function roundedPolygon(track: Extract<TrackSpec, { kind: 'polygon' }>): P[] {
  const pts = track.points;
  const n = pts.length;
  const r = track.cornerRadius;
  const out: P[] = [];
  for (let i = 0; i < n; i++) {
    const a = pts[(i + n - 1) % n]!;
    const v = pts[i]!;
    const b = pts[(i + 1) % n]!;
    const l1 = Math.hypot(v[0] - a[0], v[1] - a[1]);
    const l2 = Math.hypot(b[0] - v[0], b[1] - v[1]);
    if (l1 === 0 || l2 === 0)
      throw new TrackGeometryError(`track.points[${i}]`, `point ${i} repeats its neighbour`);
    const d1 = [(v[0] - a[0]) / l1, (v[1] - a[1]) / l1] as const;
    const d2 = [(b[0] - v[0]) / l2, (b[1] - v[1]) / l2] as const;
    const cross = d1[0] * d2[1] - d1[1] * d2[0];
    const turn = Math.atan2(cross, d1[0] * d2[0] + d1[1] * d2[1]);
    if (Math.abs(turn) < 1e-9) {
      out.push([v[0], v[1]]);
      continue;
    }
    const tangent = r * Math.tan(Math.abs(turn) / 2);
    // Half of each edge is this corner's to use; the neighbour corner owns the other half.
    if (tangent > Math.min(l1, l2) / 2 + 1e-9) {
      throw new TrackGeometryError(
        'track.cornerRadius',
        `corner radius ${r} m does not fit at point ${i}: the arc needs ${tangent.toFixed(2)} m of each edge, ` +
          `half the shorter edge is ${(Math.min(l1, l2) / 2).toFixed(2)} m`,
      );
    }
    const side = Math.sign(turn);
    const p1 = [v[0] - d1[0] * tangent, v[1] - d1[1] * tangent] as const;
    const cx = p1[0] - d1[1] * r * side;
    const cy = p1[1] + d1[0] * r * side;
    const a0 = Math.atan2(p1[1] - cy, p1[0] - cx);
    const steps = Math.max(2, Math.ceil(Math.abs(turn) / (Math.PI / 180)));
    for (let k = 0; k <= steps; k++) {
      const ang = a0 + (turn * k) / steps;
      out.push([cx + r * Math.cos(ang), cy + r * Math.sin(ang)]);
    }
  }
  return out;
}

function resample(dense: readonly P[]): Centreline {
  const m = dense.length;
  const cum = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) {
    const p = dense[i]!;
    const q = dense[(i + 1) % m]!;
    cum[i + 1] = cum[i]! + Math.hypot(q[0] - p[0], q[1] - p[1]);
  }
  const total = cum[m]!;
  const n = Math.max(8, Math.round(total / CENTRELINE_STEP_M));
  const ds = total / n;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const s = i * ds;
    while (j < m - 1 && cum[j + 1]! <= s) j++;
    const p = dense[j]!;
    const q = dense[(j + 1) % m]!;
    const segLen = cum[j + 1]! - cum[j]!;
    const f = segLen > 0 ? (s - cum[j]!) / segLen : 0;
    xs[i] = p[0] + (q[0] - p[0]) * f;
    ys[i] = p[1] + (q[1] - p[1]) * f;
  }
  const tx = new Float64Array(n);
  const ty = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const dx = xs[(i + 1) % n]! - xs[(i + n - 1) % n]!;
    const dy = ys[(i + 1) % n]! - ys[(i + n - 1) % n]!;
    const l = Math.hypot(dx, dy) || 1;
    tx[i] = dx / l;
    ty[i] = dy / l;
  }
  return { n, ds, length: total, xs, ys, tx, ty };
}

/** Wraps an arc length into [0, length). */
export function wrapS(c: Centreline, s: number): number {
  const w = s % c.length;
  return w < 0 ? w + c.length : w;
}

/** Position and heading at arc length s (wrapped). */
export function pointAt(c: Centreline, s: number): { x: number; y: number; yaw: number } {
  const w = wrapS(c, s);
  const i = Math.min(c.n - 1, Math.floor(w / c.ds));
  const k = (i + 1) % c.n;
  const f = w / c.ds - i;
  return {
    x: c.xs[i]! + (c.xs[k]! - c.xs[i]!) * f,
    y: c.ys[i]! + (c.ys[k]! - c.ys[i]!) * f,
    yaw: Math.atan2(c.ys[k]! - c.ys[i]!, c.xs[k]! - c.xs[i]!),
  };
}

export interface Projection {
  /** Arc length of the nearest centreline point, in [0, length). */
  s: number;
  /** Signed cross-track error (m): positive when the point is left of the driving direction. */
  cte: number;
  /** Nearest sample, a hint for the next call. */
  index: number;
}

/**
 * Nearest point on the centreline. With a hint (the previous index) only a window around it is
 * searched, so a track passing close to itself cannot make progress jump to the other part.
 */
export function project(c: Centreline, x: number, y: number, hint?: number): Projection {
  const window = 60;
  let best = -1;
  let bestD = Infinity;
  const scan = (from: number, count: number): void => {
    for (let k = 0; k < count; k++) {
      const i = (((from + k) % c.n) + c.n) % c.n;
      const d = (c.xs[i]! - x) ** 2 + (c.ys[i]! - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
  };
  if (hint === undefined) scan(0, c.n);
  else {
    scan(hint - window, 2 * window + 1);
    // Fell off the window's edge: the robot moved far (a reset), search everything.
    const off = (((best - hint) % c.n) + c.n + c.n / 2) % c.n;
    if (Math.abs(off - c.n / 2) >= window) scan(0, c.n);
  }
  // Refine on the two segments around the nearest sample.
  let s = best * c.ds;
  let cte = 0;
  let refined = Infinity;
  for (const a of [(best + c.n - 1) % c.n, best]) {
    const b = (a + 1) % c.n;
    const ex = c.xs[b]! - c.xs[a]!;
    const ey = c.ys[b]! - c.ys[a]!;
    const len2 = ex * ex + ey * ey;
    const f = Math.min(1, Math.max(0, ((x - c.xs[a]!) * ex + (y - c.ys[a]!) * ey) / len2));
    const fx = c.xs[a]! + ex * f;
    const fy = c.ys[a]! + ey * f;
    const d = (x - fx) ** 2 + (y - fy) ** 2;
    if (d < refined) {
      refined = d;
      s = (a + f) * c.ds;
      cte = (ex * (y - fy) - ey * (x - fx)) / Math.sqrt(len2);
    }
  }
  return { s: wrapS(c, s), cte, index: best };
}

/** Smallest radius of curvature (m), from chords 0.4 m long, and where it occurs. */
export function minRadius(c: Centreline): { radius: number; s: number } {
  const k = Math.max(1, Math.round(0.2 / c.ds));
  let radius = Infinity;
  let at = 0;
  for (let i = 0; i < c.n; i++) {
    const a = (i + c.n - k) % c.n;
    const b = (i + k) % c.n;
    const ax = c.xs[a]! - c.xs[i]!;
    const ay = c.ys[a]! - c.ys[i]!;
    const bx = c.xs[b]! - c.xs[i]!;
    const by = c.ys[b]! - c.ys[i]!;
    const cross = Math.abs(ax * by - ay * bx);
    const r =
      cross < 1e-12
        ? Infinity
        : (Math.hypot(ax, ay) * Math.hypot(bx, by) * Math.hypot(bx - ax, by - ay)) / (2 * cross);
    if (r < radius) {
      radius = r;
      at = i * c.ds;
    }
  }
  return { radius, s: at };
}

/**
 * The closest approach between parts of the track that are far apart along it, which must leave
 * room for both walls; undefined when it does.
 */
export function selfApproach(
  c: Centreline,
  clearance: number,
  minSeparation: number,
): { s1: number; s2: number; distance: number } | undefined {
  const stride = Math.max(1, Math.round(0.1 / c.ds));
  const sep = Math.ceil(minSeparation / c.ds);
  for (let i = 0; i < c.n; i += stride) {
    for (let j = i + sep; j < c.n - sep + i; j += stride) {
      const d = Math.hypot(c.xs[i]! - c.xs[j]!, c.ys[i]! - c.ys[j]!);
      if (d < clearance) return { s1: i * c.ds, s2: j * c.ds, distance: d };
    }
  }
  return undefined;
}
