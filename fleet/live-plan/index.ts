// Public surface of the live plan: measurement (measure.ts), signed rows and proposals
// (messages.ts) and agreement (agreement.ts) are pure; MqttLivePlan is the MQTT adapter.

export {
  DEFAULT_DRIFT,
  drift,
  measurementsOf,
  planFromRows,
  planningOptions,
  PlanningError,
  PlanSchedule,
} from './agreement.ts';
export type { ComputedPlan, DriftThreshold, PlanningOptions, ScheduledPlan } from './agreement.ts';
export { DEFAULT_SMOOTHING, LinkEstimator, quantiseBps, quantiseRttMs } from './measure.ts';
export type { LinkMeasurement } from './measure.ts';
export {
  proposalId,
  proposalSchema,
  rowSchema,
  setHashOf,
  signProposal,
  signRow,
  verifyProposal,
  verifyRow,
} from './messages.ts';
export type { MeasurementRow, PlanProposal, Verdict } from './messages.ts';
export { connectLivePlan, MqttLivePlan } from './mqtt-live-plan.ts';
export type { LivePlanOptions } from './mqtt-live-plan.ts';
