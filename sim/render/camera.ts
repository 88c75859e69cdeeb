// The camera renderer. Everything that depends only on the camera (each pixel's ray) is computed
// once; a frame then (1) projects every vertical segment into a table of bearings, keeping the
// nearest wall and the nearest distractor per bearing, and (2) walks the pixels once: a pixel
// shows a surface when its ray reaches that surface's distance between floor and top, else the
// floor (one raster lookup, incremental along the row) or the sky.
import type { Scene } from '../scene.ts';
import type { Pose } from '../vehicle.ts';
import { buildFloor, type FloorRaster } from './floor.ts';
import { buildSurfaceAtlas, SURFACE_RES_M, type SurfaceAtlas } from './textures.ts';

export interface CameraParams {
  width: number;
  height: number;
  /** Horizontal field of view (deg); 69 is the RealSense D435 colour camera. */
  hfovDeg: number;
  /** Lens height above the floor (m). */
  heightM: number;
  /** Downward tilt of the optical axis (deg). */
  pitchDeg: number;
  /** Lens position ahead of the robot's pose (m). */
  forwardM: number;
}

export const DEFAULT_CAMERA: CameraParams = {
  width: 640,
  height: 480,
  hfovDeg: 69,
  heightM: 0.25,
  pitchDeg: 10,
  forwardM: 0.1,
};

export class CameraParamsError extends Error {
  override readonly name = 'CameraParamsError';
  constructor(
    readonly field: string,
    readonly value: number,
    expected: string,
  ) {
    super(`camera ${field} = ${value}, expected ${expected}`);
  }
}

function check(p: CameraParams): void {
  const ok = (f: keyof CameraParams, good: boolean, expected: string): void => {
    if (!good) throw new CameraParamsError(f, p[f], expected);
  };
  ok('width', Number.isInteger(p.width) && p.width >= 2 && p.width <= 4096, 'an integer in 2..4096');
  ok('height', Number.isInteger(p.height) && p.height >= 2 && p.height <= 4096, 'an integer in 2..4096');
  ok('hfovDeg', p.hfovDeg >= 10 && p.hfovDeg <= 150, '10..150');
  ok('heightM', p.heightM > 0 && p.heightM < 5, '0..5 (exclusive)');
  ok('pitchDeg', p.pitchDeg >= -30 && p.pitchDeg <= 45, '-30..45');
  ok('forwardM', Number.isFinite(p.forwardM), 'a finite number');
}

/** Bearings per radian in the bearing table: about 2 per pixel column at the image centre. */
const BINS_PER_PIXEL = 2;
const SKY_LEVELS = 16;
const NEAR_M = 0.01;

/**
 * How a frame is exposed: every channel value v (lit, possibly above 255) becomes
 * tone[v + noise + TONE_BIAS], so exposure, clipping and sensor noise cost one lookup.
 */
export interface Look {
  /** TONE_SIZE entries. */
  tone: Uint8Array;
  /** Per-pixel noise, read at (pixel + noiseOffset) & (length - 1); length a power of two. */
  noise: Int8Array;
  noiseOffset: number;
}

export const TONE_BIAS = 256;
export const TONE_SIZE = 1024;

/** The tone curve for an exposure gain: linear, clipped to 0..255. */
export function toneCurve(gain: number, into: Uint8Array = new Uint8Array(TONE_SIZE)): Uint8Array {
  for (let j = 0; j < TONE_SIZE; j++)
    into[j] = Math.max(0, Math.min(255, Math.round((j - TONE_BIAS) * gain)));
  return into;
}

const NEUTRAL_LOOK: Look = { tone: toneCurve(1), noise: new Int8Array(1), noiseOffset: 0 };

export class CameraRenderer {
  readonly params: Readonly<CameraParams>;
  readonly #scene: Scene;
  readonly #floor: FloorRaster;
  readonly #atlas: SurfaceAtlas;
  // Per pixel: bearing bin and vertical slope (height change per metre of horizontal distance).
  readonly #bin: Uint16Array;
  readonly #slope: Float32Array;
  /** Horizontal distance to the floor point (m), Infinity at and above the horizon. */
  readonly #floorDist: Float32Array;
  /** Per row, the farthest floor point: rows nearer than every surface are all floor. */
  readonly #rowFloorMax: Float64Array;
  // Per row: floor distance ahead and lateral spread per column (robot frame), or NaN above the horizon.
  readonly #rowAhead: Float64Array;
  readonly #rowSide: Float64Array;
  readonly #a0: number;
  readonly #da: number;
  // Bearing table.
  readonly #bins: number;
  readonly #phiMin: number;
  readonly #dPhi: number;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  readonly #wallD: Float64Array;
  readonly #wallSeg: Int32Array;
  readonly #wallU: Float64Array;
  readonly #distD: Float64Array;
  readonly #distSeg: Int32Array;
  readonly #distU: Float64Array;
  readonly #nearD: Float64Array;
  readonly #perBin: Record<'wBase' | 'wTop' | 'wLight' | 'dBase' | 'dTop' | 'dLight', Int32Array> &
    Record<'wH' | 'dH', Float64Array>;
  readonly #sky: Uint8Array;

  constructor(scene: Scene, params: CameraParams) {
    check(params);
    this.params = { ...params };
    this.#scene = scene;
    this.#floor = buildFloor(scene);
    this.#atlas = buildSurfaceAtlas(scene.surfaces);
    const { width: w, height: h } = params;
    const f = w / 2 / Math.tan((params.hfovDeg * Math.PI) / 360);
    const th = (params.pitchDeg * Math.PI) / 180;
    const ct = Math.cos(th);
    const st = Math.sin(th);
    // Ray of pixel (col, row) in the robot frame (x ahead, y left, z up): a, b are the image-plane
    // offsets right and down; rx = cos - b sin, ry = -a, rz = -sin - b cos.
    this.#a0 = (0.5 - w / 2) / f;
    this.#da = 1 / f;
    const aMax = (w / 2 - 0.5) / f;
    let phiMax = 0;
    for (const b of [(0.5 - h / 2) / f, (h / 2 - 0.5) / f]) {
      const rx = ct - b * st;
      if (rx <= 0)
        throw new CameraParamsError('pitchDeg', params.pitchDeg, 'a pitch where every ray points ahead');
      phiMax = Math.max(phiMax, Math.atan2(aMax, rx));
    }
    this.#bins = Math.ceil(2 * phiMax * f * BINS_PER_PIXEL) + 2;
    this.#phiMin = -phiMax;
    this.#dPhi = (2 * phiMax) / (this.#bins - 1);
    this.#cos = Float64Array.from({ length: this.#bins }, (_, k) => Math.cos(this.#phiMin + k * this.#dPhi));
    this.#sin = Float64Array.from({ length: this.#bins }, (_, k) => Math.sin(this.#phiMin + k * this.#dPhi));
    this.#bin = new Uint16Array(w * h);
    this.#slope = new Float32Array(w * h);
    this.#floorDist = new Float32Array(w * h);
    this.#rowFloorMax = new Float64Array(h);
    this.#rowAhead = new Float64Array(h);
    this.#rowSide = new Float64Array(h);
    for (let row = 0; row < h; row++) {
      const b = (row + 0.5 - h / 2) / f;
      const rx = ct - b * st;
      const rz = -st - b * ct;
      const t = rz < 0 ? params.heightM / -rz : Number.NaN;
      this.#rowAhead[row] = t * rx;
      this.#rowSide[row] = t;
      for (let col = 0; col < w; col++) {
        const ry = -(this.#a0 + col * this.#da);
        const i = row * w + col;
        this.#bin[i] = Math.round((Math.atan2(ry, rx) - this.#phiMin) / this.#dPhi);
        this.#slope[i] = rz / Math.hypot(rx, ry);
        this.#floorDist[i] = rz < 0 ? (params.heightM * Math.hypot(rx, ry)) / -rz : Infinity;
        this.#rowFloorMax[row] = Math.max(this.#rowFloorMax[row]!, this.#floorDist[i]!);
      }
    }
    this.#wallD = new Float64Array(this.#bins);
    this.#wallSeg = new Int32Array(this.#bins);
    this.#wallU = new Float64Array(this.#bins);
    this.#distD = new Float64Array(this.#bins);
    this.#distSeg = new Int32Array(this.#bins);
    this.#distU = new Float64Array(this.#bins);
    this.#nearD = new Float64Array(this.#bins);
    const n = this.#bins;
    this.#perBin = {
      wBase: new Int32Array(n),
      wTop: new Int32Array(n),
      dBase: new Int32Array(n),
      dTop: new Int32Array(n),
      wH: new Float64Array(n),
      wLight: new Int32Array(n),
      dH: new Float64Array(n),
      dLight: new Int32Array(n),
    };
    // Sky shades by elevation: horizon colour at the horizon to zenith colour at 45 degrees up.
    const [zenith, horizon] = scene.world.lighting.sky;
    this.#sky = new Uint8Array(SKY_LEVELS * 3);
    for (let l = 0; l < SKY_LEVELS; l++) {
      const m = l / (SKY_LEVELS - 1);
      for (let ch = 0; ch < 3; ch++)
        this.#sky[l * 3 + ch] = Math.round(horizon[ch]! + (zenith[ch]! - horizon[ch]!) * m);
    }
  }

  /** Frame size in bytes (rgb8). */
  get frameBytes(): number {
    return this.params.width * this.params.height * 3;
  }

  /** Renders the view from a robot pose into out (rgb8, row stride width * 3). */
  render(pose: Pose, out: Uint8Array, look: Look = NEUTRAL_LOOK): Uint8Array {
    if (out.length < this.frameBytes)
      throw new RangeError(`frame buffer holds ${out.length} bytes, a frame needs ${this.frameBytes}`);
    const cy = Math.cos(pose.yaw);
    const sy = Math.sin(pose.yaw);
    const camX = pose.x + cy * this.params.forwardM;
    const camY = pose.y + sy * this.params.forwardM;
    this.#castSegments(camX, camY, cy, sy);
    this.#shade(camX, camY, cy, sy, out, look);
    return out;
  }

  #castSegments(camX: number, camY: number, cy: number, sy: number): void {
    const s = this.#scene.segments;
    const wallD = this.#wallD.fill(Infinity);
    const distD = this.#distD.fill(Infinity);
    const cosT = this.#cos;
    const sinT = this.#sin;
    const last = this.#bins - 1;
    for (let i = 0; i < s.count; i++) {
      // Endpoints in the camera's horizontal frame (x ahead, y left).
      let ax = (s.x0[i]! - camX) * cy + (s.y0[i]! - camY) * sy;
      let ay = -(s.x0[i]! - camX) * sy + (s.y0[i]! - camY) * cy;
      let bx = (s.x1[i]! - camX) * cy + (s.y1[i]! - camY) * sy;
      let by = -(s.x1[i]! - camX) * sy + (s.y1[i]! - camY) * cy;
      if (ax < NEAR_M && bx < NEAR_M) continue;
      // Clip to just ahead of the lens so both bearings are in (-90, 90) degrees.
      let ua = 0;
      let ub = 1;
      if (ax < NEAR_M) {
        ua = (NEAR_M - ax) / (bx - ax);
        ax = NEAR_M;
        ay += (by - ay) * ua;
      } else if (bx < NEAR_M) {
        ub = (NEAR_M - ax) / (bx - ax);
        by = ay + (by - ay) * ub;
        bx = NEAR_M;
      }
      const pa = (Math.atan2(ay, ax) - this.#phiMin) / this.#dPhi;
      const pb = (Math.atan2(by, bx) - this.#phiMin) / this.#dPhi;
      const k0 = Math.max(0, Math.ceil(Math.min(pa, pb)));
      const k1 = Math.min(last, Math.floor(Math.max(pa, pb)));
      if (k0 > k1) continue;
      const ex = bx - ax;
      const ey = by - ay;
      const len = Math.hypot(s.x1[i]! - s.x0[i]!, s.y1[i]! - s.y0[i]!);
      const isDist = s.isDistractor[i] === 1;
      const depth = isDist ? distD : wallD;
      const seg = isDist ? this.#distSeg : this.#wallSeg;
      const uArr = isDist ? this.#distU : this.#wallU;
      const pe = ax * ey - ay * ex;
      for (let k = k0; k <= k1; k++) {
        const dx = cosT[k]!;
        const dy = sinT[k]!;
        const den = dx * ey - dy * ex;
        if (den === 0) continue;
        const t = pe / den;
        if (t > 0 && t < depth[k]!) {
          depth[k] = t;
          seg[k] = i;
          // Where along the original segment the ray hit, for the texture coordinate.
          const f = (ax * dy - ay * dx) / den;
          uArr[k] = s.u0[i]! + (ua + (ub - ua) * Math.min(1, Math.max(0, f))) * len;
        }
      }
    }
  }

  #shade(camX: number, camY: number, cy: number, sy: number, out: Uint8Array, look: Look): void {
    const { tone, noise, noiseOffset } = look;
    const mask = noise.length - 1;
    const { width: w, height: h, heightM: camH } = this.params;
    const fl = this.#floor;
    const frgb = fl.rgb;
    const fw = fl.width;
    const fh = fl.height;
    const inv = 1 / fl.res;
    const [farR, farG, farB] = fl.far;
    const at = this.#atlas;
    const argb = at.rgb;
    const stride = at.stride;
    const segHeight = this.#scene.segments.height;
    const segSurface = this.#scene.segments.surface;
    const segLight = this.#scene.segments.light;
    const binArr = this.#bin;
    const slopeArr = this.#slope;
    const floorArr = this.#floorDist;
    const wallD = this.#wallD;
    const distD = this.#distD;
    const wallSeg = this.#wallSeg;
    const distSeg = this.#distSeg;
    const wallU = this.#wallU;
    const distU = this.#distU;
    const nearD = this.#nearD;
    const texRes = 1 / SURFACE_RES_M;
    const { wBase, wH, wTop, wLight, dBase, dH, dTop, dLight } = this.#perBin;
    // Per bearing: what a pixel needs of the surfaces hit, so the pixel loop only adds its row.
    let nearest = Infinity;
    for (let k = 0; k < this.#bins; k++) {
      nearD[k] = Math.min(wallD[k]!, distD[k]!);
      if (nearD[k]! < nearest) nearest = nearD[k]!;
      wH[k] = 0;
      dH[k] = 0;
      if (wallD[k] !== Infinity) {
        const si = wallSeg[k]!;
        const surf = segSurface[si]!;
        wBase[k] = at.offset[surf]! + (((wallU[k]! * texRes) | 0) % stride);
        wH[k] = segHeight[si]!;
        wTop[k] = at.rows[surf]! - 1;
        wLight[k] = Math.round(segLight[si]! * 256);
      }
      if (distD[k] !== Infinity) {
        const si = distSeg[k]!;
        const surf = segSurface[si]!;
        dBase[k] = at.offset[surf]! + (((distU[k]! * texRes) | 0) % stride);
        dH[k] = segHeight[si]!;
        dTop[k] = at.rows[surf]! - 1;
        dLight[k] = Math.round(segLight[si]! * 256);
      }
    }
    const sky = this.#sky;
    const a0 = this.#a0;
    const da = this.#da;
    let o = 0;
    for (let row = 0; row < h; row++) {
      const ahead = this.#rowAhead[row]!;
      const side = this.#rowSide[row]!;
      const hasFloor = ahead === ahead;
      // Floor point of column 0 and its step per column, in raster texels.
      const gy0 = -side * a0;
      const dgy = -side * da;
      let fx = hasFloor ? (camX + cy * ahead - sy * gy0 - fl.minX) * inv : 0;
      let fy = hasFloor ? (camY + sy * ahead + cy * gy0 - fl.minY) * inv : 0;
      const dfx = hasFloor ? -sy * dgy * inv : 0;
      const dfy = hasFloor ? cy * dgy * inv : 0;
      if (this.#rowFloorMax[row]! < nearest) {
        for (let col = 0, i = row * w; col < w; col++, i++, o += 3, fx += dfx, fy += dfy) {
          const nz = noise[(i + noiseOffset) & mask]! + TONE_BIAS;
          const ix = fx | 0;
          const iy = fy | 0;
          if (fx >= 0 && fy >= 0 && ix < fw && iy < fh) {
            const t = (iy * fw + ix) * 3;
            out[o] = tone[frgb[t]! + nz]!;
            out[o + 1] = tone[frgb[t + 1]! + nz]!;
            out[o + 2] = tone[frgb[t + 2]! + nz]!;
          } else {
            out[o] = tone[farR + nz]!;
            out[o + 1] = tone[farG + nz]!;
            out[o + 2] = tone[farB + nz]!;
          }
        }
        continue;
      }
      let i = row * w;
      for (let col = 0; col < w; col++, i++, o += 3, fx += dfx, fy += dfy) {
        const k = binArr[i]!;
        const nz = noise[(i + noiseOffset) & mask]! + TONE_BIAS;
        // The common case: the floor point is nearer than anything standing in this direction.
        if (floorArr[i]! < nearD[k]!) {
          const ix = fx | 0;
          const iy = fy | 0;
          if (fx >= 0 && fy >= 0 && ix < fw && iy < fh) {
            const t = (iy * fw + ix) * 3;
            out[o] = tone[frgb[t]! + nz]!;
            out[o + 1] = tone[frgb[t + 1]! + nz]!;
            out[o + 2] = tone[frgb[t + 2]! + nz]!;
          } else {
            out[o] = tone[farR + nz]!;
            out[o + 1] = tone[farG + nz]!;
            out[o + 2] = tone[farB + nz]!;
          }
          continue;
        }
        const q = slopeArr[i]!;
        const dw = wallD[k]!;
        const dd = distD[k]!;
        // A distractor in front of the wall is tested first, one behind it only above the wall.
        // Missing surfaces have distance Infinity and height 0, so their tests fail by themselves.
        let t = -1;
        let light = 0;
        if (dd < dw) {
          const z = camH + dd * q;
          if (z >= 0 && z < dH[k]!) {
            t = dBase[k]! + Math.min((z * texRes) | 0, dTop[k]!) * stride;
            light = dLight[k]!;
          }
        }
        if (t < 0) {
          const z = camH + dw * q;
          if (z >= 0 && z < wH[k]!) {
            t = wBase[k]! + Math.min((z * texRes) | 0, wTop[k]!) * stride;
            light = wLight[k]!;
          } else if (dd >= dw) {
            const zd = camH + dd * q;
            if (zd >= 0 && zd < dH[k]!) {
              t = dBase[k]! + Math.min((zd * texRes) | 0, dTop[k]!) * stride;
              light = dLight[k]!;
            }
          }
        }
        if (t >= 0) {
          t *= 3;
          const cr = (argb[t]! * light) >> 8;
          const cg = (argb[t + 1]! * light) >> 8;
          const cb = (argb[t + 2]! * light) >> 8;
          out[o] = tone[cr + nz]!;
          out[o + 1] = tone[cg + nz]!;
          out[o + 2] = tone[cb + nz]!;
        } else if (q < 0) {
          // Floor seen over the top of a low wall or distractor.
          const ix = fx | 0;
          const iy = fy | 0;
          if (fx >= 0 && fy >= 0 && ix < fw && iy < fh) {
            const t = (iy * fw + ix) * 3;
            out[o] = tone[frgb[t]! + nz]!;
            out[o + 1] = tone[frgb[t + 1]! + nz]!;
            out[o + 2] = tone[frgb[t + 2]! + nz]!;
          } else {
            out[o] = tone[farR + nz]!;
            out[o + 1] = tone[farG + nz]!;
            out[o + 2] = tone[farB + nz]!;
          }
        } else {
          let l = (q * 2 * (SKY_LEVELS - 1)) | 0;
          if (l > SKY_LEVELS - 1) l = SKY_LEVELS - 1;
          out[o] = tone[sky[l * 3]! + nz]!;
          out[o + 1] = tone[sky[l * 3 + 1]! + nz]!;
          out[o + 2] = tone[sky[l * 3 + 2]! + nz]!;
        }
      }
    }
  }
}
