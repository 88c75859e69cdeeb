// The simulator as a data source of `fadnet silo --sim-world W`: expert-driven samples of one
// world. Here in bin/ because the silo's folder must not import the simulator.
import { FADNET_INPUT_SPEC } from '../models/src/input-spec.ts';
import type { TrainingDataset } from '../models/src/train/dataset.ts';

/**
 * Set by `fadnet fleet sim --randomise-appearance N` on the silo processes it starts: each silo
 * re-dresses its world with a random look every N samples (sim/world/variants.ts), as
 * `fadnet train --randomise-appearance N` does. The silo's own flags are its robot's; this is
 * the simulated data source's setting, so it travels beside them.
 */
export const SIM_APPEARANCE_ENV = 'FADNET_SIM_RANDOMISE_APPEARANCE';

export interface SimWorldDataOptions {
  /** A new random look every this many samples; 0: the world's own look throughout. */
  readonly randomiseAppearance?: number;
}

/** The look setting of this process's environment (0 when unset). */
export function appearanceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[SIM_APPEARANCE_ENV];
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`${SIM_APPEARANCE_ENV} must be a whole number of samples, got "${raw}"`);
  return n;
}

export async function simWorldDataset(
  world: string,
  samples: number,
  seed: number,
  options: SimWorldDataOptions = { randomiseAppearance: appearanceFromEnv() },
): Promise<TrainingDataset> {
  const [{ SimDataset }, { loadWorld }] = await Promise.all([
    import('../sim/loop/dataset.ts'),
    import('../sim/world/load.ts'),
  ]);
  const every = options.randomiseAppearance ?? 0;
  return SimDataset.generate({
    worlds: [loadWorld(world)],
    samplesPerWorld: samples,
    seed,
    inputSpec: FADNET_INPUT_SPEC,
    ...(every > 0 ? { randomiseAppearance: { episodeSamples: every } } : {}),
  });
}
