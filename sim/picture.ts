// PNG adapter for the top-down picture: the only file I/O of the picture path.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import type { Scene } from './scene.ts';
import { renderTopDown, type TopDownOptions, type Trajectory } from './topdown.ts';
import type { World } from './world/schema.ts';

/** Writes the world seen from above with the trajectories over it; creates the folder. */
export async function writeTrajectoryPng(
  file: string,
  world: World | Scene,
  trajectories: readonly Trajectory[],
  opts: TopDownOptions = {},
): Promise<void> {
  const { width, height, rgba } = renderTopDown(world, trajectories, opts);
  await mkdir(dirname(file), { recursive: true });
  await sharp(rgba, { raw: { width, height, channels: 4 } })
    .png()
    .toFile(file);
}
