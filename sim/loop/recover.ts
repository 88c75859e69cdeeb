import type { Simulator } from '../simulator.ts';
import { pointAt, project } from '../track.ts';

/** What a safety driver does: puts the robot back on the nearest centreline point, facing along the track (plus `yawOffset`). */
export function backOnCentreline(sim: Simulator, yawOffset = 0): ReturnType<Simulator['reset']> {
  const here = sim.state;
  const on = pointAt(sim.centreline, project(sim.centreline, here.x, here.y).s);
  return sim.reset({ x: on.x, y: on.y, yaw: on.yaw + yawOffset });
}
