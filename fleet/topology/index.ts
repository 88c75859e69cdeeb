// Public surface of the topology planner. Everything here is pure except the file adapter.

export { connectivityFromNetwork } from './connectivity.ts';
export type { Connectivity, NetworkOptions } from './connectivity.ts';
export {
  DisconnectedNetworkError,
  GmlParseError,
  MeasurementsError,
  NetworkFileError,
  TopologyInputError,
} from './errors.ts';
export { readMeasurementsFile, readNetworkFile, writeTextFile } from './files.ts';
export { DEFAULT_ACCESS_BPS, DEFAULT_T_MAX, fleetFromConnectivity, linkDelay, PROFILES } from './fleet.ts';
export type { Fleet, Profile, ProfileName, Workload } from './fleet.ts';
export { parseGml } from './gml.ts';
export type { GmlEdge, GmlNetwork, GmlNode } from './gml.ts';
export { improveMultigraph } from './improve.ts';
export type { ImprovedPlan, ImproveOptions } from './improve.ts';
export { CycleMeanSolver, maxCycleMean } from './karp.ts';
export type { Arc } from './karp.ts';
export { maxWeightMatching, minWeightPerfectMatching } from './matching.ts';
export { fleetFromMeasurements, measurementsSchema, parseMeasurements } from './measurements.ts';
export type { Measurements } from './measurements.ts';
export { mixingMatrix, SELF_WEIGHT, SHARED_WEIGHT, siloRounds } from './mixing.ts';
export type { SiloRound, StrongInNeighbour } from './mixing.ts';
export { PAPER_NETWORKS, paperNetworkPath } from './paper-networks.ts';
export type { PaperNetwork } from './paper-networks.ts';
export { buildMultigraph, isolatedSilos, isStrong, stateOfRound, strongShare } from './multigraph.ts';
export type { Multigraph } from './multigraph.ts';
export { ringOverlay } from './christofides.ts';
export { deltaMbstOverlay } from './mbst.ts';
export { cycleTime, mstOverlay, reportedCycleTime, starOverlay } from './overlays.ts';
export type { Overlay, OverlayKind } from './overlays.ts';
export { OVERLAY_NAMES, planTopology } from './planner.ts';
export type { OverlayName, PlanOptions, PlannedMultigraph, PlannedOverlay, TopologyPlan } from './planner.ts';
export { roundSchedule } from './schedule.ts';
export { renderPlanSvg } from './svg.ts';
export { simulate } from './simulate.ts';
export type { Simulation } from './simulate.ts';
export { syntheticNetwork } from './synthetic.ts';
