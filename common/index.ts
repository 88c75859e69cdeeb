// Helpers every folder may import (models, nodes, sim, fleet, firmware-bridge, bin, test).
// This folder imports nothing from the project, so it can never close a dependency cycle.
export {
  choiceArg,
  numberArg,
  optionalNumberArg,
  parseCommandArgs,
  requiredArg,
  UsageError,
  wantsHelp,
} from './cli-args.ts';
export type { CommandArgs, NumberRule } from './cli-args.ts';
export { writeFileAtomic } from './atomic-write.ts';
export { DirectoryError, ensureDir } from './ensure-dir.ts';
export { freeLoopbackPort } from './net.ts';
export { progressBar } from './progress.ts';
export { mulberry32, Rng } from './rng.ts';
export { percentile, round3, roundHalfEven, summarise } from './stats.ts';
export type { Summary } from './stats.ts';
