// Public surface of the silo: the pure round logic (plan, round decision, mixing) and the Silo
// that runs rounds against an injected trainer, peer exchange, clock and checkpoint store.

export { FleetPlanError, MixingError, SiloCheckpointError, SiloConfigError } from './errors.ts';
export { MIX_RULE_NAMES, mixModels, parseMixRule } from './mixing.ts';
export type { MixRule, WeightedModel } from './mixing.ts';
export {
  defaultPlan,
  inNeighbours,
  parsePlan,
  PLAN_FORMAT,
  planFileFromTopology,
  planFileSchema,
  siloIndex,
} from './plan.ts';
export type { FleetPlan, PlanFile } from './plan.ts';
export { decideRound, rejoinRound, resolveWeights } from './round.ts';
export type { PeerModel, ResolvedWeights, RoundDecision } from './round.ts';
export { Silo } from './silo.ts';
export type {
  CheckpointStore,
  LocalTrainer,
  PlanSource,
  RoundReport,
  SiloCheckpoint,
  SiloOptions,
} from './silo.ts';
export { FileCheckpointStore, mcapFilesIn, readPlanFile, TrainerLocalUpdate } from './adapters.ts';
