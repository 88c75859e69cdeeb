// Procedural textures, evaluated once into rasters when a world is built: the per-frame renderer
// then only looks texels up, which is what keeps a 640x480 frame within a few milliseconds.
import type { Rgb, Texture } from '../world/schema.ts';

/** Colour at surface coordinates (a, b) in metres: (x, y) on the floor, (u, z) on a wall. */
export type Sampler = (a: number, b: number) => Rgb;

function hash2(ix: number, iy: number, salt: number): number {
  let h = Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ Math.imul(salt | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1). */
function valueNoise(x: number, y: number, salt: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash2(ix, iy, salt);
  const b = hash2(ix + 1, iy, salt);
  const c = hash2(ix, iy + 1, salt);
  const d = hash2(ix + 1, iy + 1, salt);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

const fbm = (x: number, y: number, salt: number): number =>
  0.55 * valueNoise(x, y, salt) +
  0.3 * valueNoise(2 * x, 2 * y, salt + 1) +
  0.15 * valueNoise(4 * x, 4 * y, salt + 2);

const scale = (c: Rgb, f: number): Rgb => [c[0] * f, c[1] * f, c[2] * f];
const mix = (p: Rgb, q: Rgb, f: number): Rgb => [
  p[0] + (q[0] - p[0]) * f,
  p[1] + (q[1] - p[1]) * f,
  p[2] + (q[2] - p[2]) * f,
];
const mod = (a: number, m: number): number => a - m * Math.floor(a / m);

export function sampler(t: Texture, salt = 0): Sampler {
  switch (t.kind) {
    case 'plain':
      return () => t.colour;
    case 'checker':
      return (a, b) => ((Math.floor(a / t.size) + Math.floor(b / t.size)) & 1 ? t.colours[1] : t.colours[0]);
    case 'noise':
      return (a, b) => scale(t.colour, 1 + t.amplitude * (2 * fbm(a / t.scale, b / t.scale, salt) - 1));
    case 'asphalt':
      return (a, b) => {
        // Grain at 1 cm, blotches at 30 cm, and sparse light stones.
        const fine = hash2(Math.floor(a * 100), Math.floor(b * 100), salt);
        if (fine < t.speckle) return scale(t.colour, 1.6);
        const coarse = valueNoise(a / 0.3, b / 0.3, salt + 7);
        return scale(t.colour, 1 + t.grain * (fine - 0.5) + 0.15 * (coarse - 0.5));
      };
    case 'wood':
      return (a, b) => {
        const row = Math.floor(b / t.plankWidth);
        const shifted = a + hash2(row, 0, salt) * t.plankLength;
        const col = Math.floor(shifted / t.plankLength);
        const along = mod(shifted, t.plankLength);
        const across = mod(b, t.plankWidth);
        if (along < 0.004 || across < 0.003) return scale(t.colours[1], 0.6);
        const grain = 0.5 + 0.5 * Math.sin((b + 0.01 * valueNoise(a * 3, b * 40, salt)) * 300 + col);
        return scale(mix(t.colours[0], t.colours[1], hash2(row, col, salt + 3)), 0.92 + 0.08 * grain);
      };
    case 'tiles':
      return (a, b) => {
        if (mod(a, t.size) < t.groutWidth || mod(b, t.size) < t.groutWidth) return t.grout;
        return scale(t.colour, 0.95 + 0.1 * hash2(Math.floor(a / t.size), Math.floor(b / t.size), salt));
      };
    case 'stripes':
      return (_a, b) => (Math.floor(b / t.width) & 1 ? t.colours[1] : t.colours[0]);
    case 'bricks':
      return (a, b) => {
        const row = Math.floor(b / t.brickHeight);
        const shifted = a + (row & 1) * (t.brickWidth / 2);
        if (mod(shifted, t.brickWidth) < 0.012 || mod(b, t.brickHeight) < 0.012) return t.mortar;
        return scale(t.colour, 0.85 + 0.3 * hash2(Math.floor(shifted / t.brickWidth), row, salt));
      };
  }
}

/** Writes a colour times a light level into rgb at texel i, saturating at 255. */
export function putTexel(rgb: Uint8Array, i: number, c: Rgb, light: number): void {
  rgb[i * 3] = Math.min(255, c[0] * light);
  rgb[i * 3 + 1] = Math.min(255, c[1] * light);
  rgb[i * 3 + 2] = Math.min(255, c[2] * light);
}

/** Vertical surfaces repeat along their length with this period (m). */
export const SURFACE_PERIOD_M = 4;
/** Texel size of surface rasters (m). */
export const SURFACE_RES_M = 0.01;

/**
 * All vertical-surface textures in one buffer, each SURFACE_PERIOD_M wide and as tall as its
 * surface, unlit (the light level depends on the face).
 */
export interface SurfaceAtlas {
  /** Texels per row (the same for every surface). */
  readonly stride: number;
  /** First texel of each surface. */
  readonly offset: Int32Array;
  /** Rows of each surface. */
  readonly rows: Int32Array;
  readonly rgb: Uint8Array;
}

export function buildSurfaceAtlas(surfaces: readonly { texture: Texture; height: number }[]): SurfaceAtlas {
  const stride = Math.round(SURFACE_PERIOD_M / SURFACE_RES_M);
  const rows = Int32Array.from(surfaces, (s) => Math.max(1, Math.ceil(s.height / SURFACE_RES_M)));
  const offset = new Int32Array(surfaces.length);
  let total = 0;
  surfaces.forEach((_, i) => {
    offset[i] = total;
    total += rows[i]! * stride;
  });
  const rgb = new Uint8Array(total * 3);
  surfaces.forEach((s, i) => {
    const f = sampler(s.texture, 101 + i);
    for (let r = 0; r < rows[i]!; r++) {
      for (let c = 0; c < stride; c++) {
        putTexel(
          rgb,
          offset[i]! + r * stride + c,
          f((c + 0.5) * SURFACE_RES_M, (r + 0.5) * SURFACE_RES_M),
          1,
        );
      }
    }
  });
  return { stride, offset, rows, rgb };
}
