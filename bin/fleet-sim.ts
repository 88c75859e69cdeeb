// The simulator as the sources of `fadnet fleet sim`: the bundled worlds (training worlds for
// the silos, the held-out one for evaluation, as each world file marks itself), their
// expert-driven samples, and this command line to start each silo process with.
import { fileURLToPath } from 'node:url';

import type { FleetSimSources } from '../fleet/sim/index.ts';
import { SIM_APPEARANCE_ENV, simWorldDataset } from './silo-sim.ts';

export async function fleetSimSources(): Promise<FleetSimSources> {
  const { listWorlds } = await import('../sim/world/load.ts');
  const worlds = listWorlds();
  const heldOut = worlds.filter((w) => w.heldOut).map((w) => w.name);
  if (heldOut.length !== 1)
    throw new Error(`expected one held-out world, found ${heldOut.join(', ') || 'none'}`);
  return {
    trainingWorlds: worlds.filter((w) => !w.heldOut).map((w) => w.name),
    heldOutWorld: heldOut[0]!,
    dataset: simWorldDataset,
    siloEnv: (every) => ({ [SIM_APPEARANCE_ENV]: String(every) }),
    siloCommand: [process.execPath, fileURLToPath(new URL('./fadnet.mjs', import.meta.url)), 'silo'],
  };
}
