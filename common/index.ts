// Helpers every folder may import (models, nodes, sim, fleet, firmware-bridge, bin, test).
// This folder imports nothing from the project, so it can never close a dependency cycle.
export { progressBar } from './progress.ts';
export { mulberry32, Rng } from './rng.ts';
export { percentile, round3, summarise } from './stats.ts';
export type { Summary } from './stats.ts';
