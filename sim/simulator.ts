// The simulator core: a world, a vehicle, a camera and an expert, stepped by its caller with a
// Twist and a fixed dt. No clock and no I/O: the closed loop, recorders and tests drive it.
import type { Twist } from '../nodes/runtime/messages.ts';
import { collidingSegment } from './collision.ts';
import { DEFAULT_EXPERT, purePursuit, type ExpertCommand, type ExpertParams } from './expert.ts';
import { CameraRenderer, DEFAULT_CAMERA, type CameraParams } from './render/camera.ts';
import { blurRows, FrameEffects, NO_RANDOMISATION, type Randomisation } from './render/effects.ts';
import { Rng } from '../common/index.ts';
import { buildScene, type Scene } from './scene.ts';
import { pointAt, project, type Centreline } from './track.ts';
import {
  checkVehicleParams,
  DEFAULT_DIFF_DRIVE,
  step as vehicleStep,
  type Pose,
  type VehicleParams,
  type VehicleState,
} from './vehicle.ts';
import type { World } from './world/schema.ts';

export interface SimulatorOptions {
  world: World;
  /** Seeds every random draw (domain randomisation); same seed, same frames. */
  seed?: number;
  vehicle?: VehicleParams;
  camera?: Partial<CameraParams>;
  /** Off unless given; DEFAULT_RANDOMISATION is a sensible training setting. */
  randomisation?: Partial<Randomisation>;
  expert?: Partial<Omit<ExpertParams, 'maxAngularRate'>>;
}

export interface StepResult {
  pose: Pose;
  /** The step would have hit a wall or distractor: the robot stayed where it was. */
  collided: boolean;
  /** Signed distance to the centreline (m), positive to the left. */
  cte: number;
  /** Fraction of the current lap driven, in [0, 1). */
  lapProgress: number;
  /** Laps completed since the last reset (net forward distance / lap length, floored). */
  laps: number;
  /** Net distance driven along the track since the last reset (m); negative when reversing. */
  distance: number;
}

export class Simulator {
  readonly world: World;
  readonly scene: Scene;
  readonly vehicle: Readonly<VehicleParams>;
  readonly expertParams: Readonly<ExpertParams>;
  readonly #camera: CameraRenderer;
  readonly #effects: FrameEffects;
  readonly #rng: Rng;
  #state: VehicleState;
  #hint = 0;
  #s = 0;
  #cte = 0;
  #distance = 0;
  #collided = false;
  #frame: Uint8Array | undefined;

  private constructor(opts: SimulatorOptions) {
    this.world = opts.world;
    this.scene = buildScene(opts.world);
    this.vehicle = opts.vehicle ?? DEFAULT_DIFF_DRIVE;
    checkVehicleParams(this.vehicle);
    this.expertParams = { ...DEFAULT_EXPERT, ...opts.expert, maxAngularRate: this.vehicle.maxAngularRate };
    this.#rng = new Rng(opts.seed ?? 1);
    this.#camera = new CameraRenderer(this.scene, { ...DEFAULT_CAMERA, ...opts.camera });
    this.#effects = new FrameEffects({ ...NO_RANDOMISATION, ...opts.randomisation }, this.#rng);
    this.#state = { ...this.startPose(), v: 0, omega: 0, steering: 0 };
    this.reset();
  }

  /** Builds the world's geometry, floor raster and camera tables (a few hundred ms). */
  static create(opts: SimulatorOptions): Simulator {
    return new Simulator(opts);
  }

  get centreline(): Centreline {
    return this.scene.centreline;
  }

  get camera(): Readonly<CameraParams> {
    return this.#camera.params;
  }

  get state(): Readonly<VehicleState> {
    return this.#state;
  }

  /** On the centreline at the world's start, facing the driving direction. */
  startPose(): Pose {
    const p = pointAt(this.scene.centreline, this.world.track.start);
    return { x: p.x, y: p.y, yaw: p.yaw };
  }

  /** Places the robot (at the start pose by default) and restarts lap counting from there. */
  reset(pose: Pose = this.startPose()): StepResult {
    this.#state = { x: pose.x, y: pose.y, yaw: pose.yaw, v: 0, omega: 0, steering: 0 };
    const p = project(this.scene.centreline, pose.x, pose.y);
    this.#hint = p.index;
    this.#s = p.s;
    this.#cte = p.cte;
    this.#distance = 0;
    this.#collided = collidingSegment(this.scene, pose, this.vehicle.footprint) !== -1;
    return this.#result();
  }

  step(twist: Twist, dtS: number): StepResult {
    if (!(dtS > 0 && Number.isFinite(dtS)))
      throw new RangeError(`dt must be a positive number of seconds, got ${dtS}`);
    const next = vehicleStep(this.#state, twist, dtS, this.vehicle);
    this.#collided = collidingSegment(this.scene, next, this.vehicle.footprint) !== -1;
    if (this.#collided) this.#state = { ...this.#state, v: 0, omega: 0 };
    else this.#state = next;
    const c = this.scene.centreline;
    const p = project(c, this.#state.x, this.#state.y, this.#hint);
    // Progress is the change of arc length, taken the short way round the loop.
    let delta = p.s - this.#s;
    if (delta > c.length / 2) delta -= c.length;
    else if (delta < -c.length / 2) delta += c.length;
    this.#distance += delta;
    this.#hint = p.index;
    this.#s = p.s;
    this.#cte = p.cte;
    return this.#result();
  }

  /** The camera frame at the current pose: 640x480 rgb8 unless configured otherwise. */
  render(out?: Uint8Array): Uint8Array {
    const frame = out ?? (this.#frame ??= new Uint8Array(this.#camera.frameBytes));
    const { look, blur } = this.#effects.draw(this.#rng);
    this.#camera.render(this.#state, frame, look);
    if (blur) blurRows(frame, this.#camera.params.width * 3);
    return frame;
  }

  /** What the expert would command now, and its steering label. */
  expert(): ExpertCommand {
    return purePursuit(this.scene.centreline, this.#state, this.#s, this.expertParams);
  }

  #result(): StepResult {
    const length = this.scene.centreline.length;
    const { x, y, yaw } = this.#state;
    const laps = Math.floor(this.#distance / length);
    return {
      pose: { x, y, yaw },
      collided: this.#collided,
      cte: this.#cte,
      lapProgress: this.#distance / length - laps,
      laps,
      distance: this.#distance,
    };
  }
}
