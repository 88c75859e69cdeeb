// The simulator as a data source of `fadnet silo --sim-world W`: expert-driven samples of one
// world. Here in bin/ because the silo's folder must not import the simulator.
import { FADNET_INPUT_SPEC } from '../models/src/input-spec.ts';
import type { TrainingDataset } from '../models/src/train/dataset.ts';

export async function simWorldDataset(
  world: string,
  samples: number,
  seed: number,
): Promise<TrainingDataset> {
  const [{ SimDataset }, { loadWorld }] = await Promise.all([
    import('../sim/loop/dataset.ts'),
    import('../sim/world/load.ts'),
  ]);
  return SimDataset.generate({
    worlds: [loadWorld(world)],
    samplesPerWorld: samples,
    seed,
    inputSpec: FADNET_INPUT_SPEC,
  });
}
