// The simulator's public surface (sim/README.md).
export { Simulator, type SimulatorOptions, type StepResult } from './simulator.ts';
export {
  loadWorld,
  listWorlds,
  parseWorld,
  WorldError,
  WORLDS_DIR,
  TEST_WORLDS_DIR,
  type WorldSummary,
} from './world/load.ts';
export {
  WorldSchema,
  type World,
  type WorldInput,
  type Texture,
  type Distractor,
  type Rgb,
} from './world/schema.ts';
export { buildScene, type Scene } from './scene.ts';
export { pointAt, project, wrapS, TrackGeometryError, type Centreline, type Projection } from './track.ts';
export {
  step,
  applyLimits,
  checkVehicleParams,
  wrapAngle,
  DEFAULT_DIFF_DRIVE,
  DEFAULT_ACKERMANN,
  VehicleParamsError,
  type Pose,
  type VehicleState,
  type VehicleParams,
  type DiffDriveParams,
  type AckermannParams,
  type Footprint,
} from './vehicle.ts';
export { collidingSegment } from './collision.ts';
export {
  purePursuit,
  twistFromSteering,
  DEFAULT_EXPERT,
  type ExpertParams,
  type ExpertCommand,
} from './expert.ts';
export { CameraRenderer, CameraParamsError, DEFAULT_CAMERA, type CameraParams } from './render/camera.ts';
export {
  DEFAULT_RANDOMISATION,
  NO_RANDOMISATION,
  RandomisationError,
  type Randomisation,
} from './render/effects.ts';
export { renderTopDown, type Trajectory, type TopDownOptions, type TopDownPicture } from './topdown.ts';
export { writeTrajectoryPng } from './picture.ts';
