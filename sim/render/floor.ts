// The floor as a lit top-down raster (2 cm texels) with the lane surface and line markings painted
// in, so that a floor pixel costs one lookup per frame.
import type { Scene } from '../scene.ts';
import type { Rgb } from '../world/schema.ts';
import { putTexel, sampler } from './textures.ts';

export const FLOOR_RES_M = 0.02;
/** Floor drawn beyond the walls' bounding box: what is seen over low outdoor walls. */
const MARGIN_M = 6;

export interface FloorRaster {
  readonly minX: number;
  readonly minY: number;
  readonly res: number;
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
  /** Mean colour, for floor beyond the raster. */
  readonly far: Rgb;
}

export function buildFloor(scene: Scene): FloorRaster {
  const { world, centreline: c, bounds, floorLight } = scene;
  const res = FLOOR_RES_M;
  const minX = bounds.minX - MARGIN_M;
  const minY = bounds.minY - MARGIN_M;
  const width = Math.ceil((bounds.maxX + MARGIN_M - minX) / res);
  const height = Math.ceil((bounds.maxY + MARGIN_M - minY) / res);
  const rgb = new Uint8Array(width * height * 3);
  const base = sampler(world.floor.texture, 1);
  const sum = [0, 0, 0];
  for (let j = 0; j < height; j++) {
    const y = minY + (j + 0.5) * res;
    for (let i = 0; i < width; i++) {
      const col = base(minX + (i + 0.5) * res, y);
      putTexel(rgb, j * width + i, col, floorLight);
      sum[0]! += col[0];
      sum[1]! += col[1];
      sum[2]! += col[2];
    }
  }
  const n = width * height;
  const far: Rgb = [
    Math.round(Math.min(255, (sum[0]! / n) * floorLight)),
    Math.round(Math.min(255, (sum[1]! / n) * floorLight)),
    Math.round(Math.min(255, (sum[2]! / n) * floorLight)),
  ];

  // Lane and markings: walk the centreline in half-texel steps along and across it, so every
  // texel within reach is painted at least once, even on the outside of bends.
  const half = world.track.width / 2;
  const { centre, edges } = world.markings;
  const lane = world.floor.lane === undefined ? undefined : sampler(world.floor.lane, 2);
  const reach = half + (edges.style === 'none' ? 0 : edges.width / 2);
  const onDash = (style: 'none' | 'solid' | 'dashed', s: number, dash: number, gap: number): boolean =>
    style === 'solid' || (style === 'dashed' && s % (dash + gap) < dash);
  const step = res / 2;
  for (let s = 0; s < c.length; s += step) {
    const k = Math.min(c.n - 1, Math.floor(s / c.ds));
    const k1 = (k + 1) % c.n;
    const f = s / c.ds - k;
    const px = c.xs[k]! + (c.xs[k1]! - c.xs[k]!) * f;
    const py = c.ys[k]! + (c.ys[k1]! - c.ys[k]!) * f;
    const nx = -c.ty[k]!;
    const ny = c.tx[k]!;
    const edgeOn = onDash(edges.style, s, edges.dash, edges.gap);
    const centreOn = onDash(centre.style, s, centre.dash, centre.gap);
    for (let o = -reach; o <= reach; o += step) {
      const x = px + nx * o;
      const y = py + ny * o;
      const i = Math.floor((x - minX) / res);
      const j = Math.floor((y - minY) / res);
      if (i < 0 || j < 0 || i >= width || j >= height) continue;
      // Decide by the texel centre's own offset, so a line covers the texels whose centres lie
      // on it: symmetric about the centreline, never widened by the stamp's position.
      const oc = (minX + (i + 0.5) * res - px) * nx + (minY + (j + 0.5) * res - py) * ny;
      let col: Rgb | undefined;
      if (centreOn && Math.abs(oc) <= centre.width / 2) col = centre.colour;
      else if (edgeOn && Math.abs(Math.abs(oc) - half) <= edges.width / 2) col = edges.colour;
      else if (lane !== undefined && Math.abs(oc) <= half) col = lane(x, y);
      if (col !== undefined) putTexel(rgb, j * width + i, col, floorLight);
    }
  }
  return { minX, minY, res, width, height, rgb, far };
}
