// Public surface of fleet telemetry. Pure cores: the schema, the aggregator, the offline buffer,
// the topic layout; adapters: the MQTT publisher, the Prometheus endpoint, the system probe and
// the telemetry node.

export { DiagnosticFormatError, TelemetryAggregator } from './aggregator.ts';
export type { AggregatorOptions, SystemSample } from './aggregator.ts';
export { DEFAULT_BUFFER_LIMITS, TelemetryBuffer, TelemetryBufferError } from './buffer.ts';
export type { BufferLimits } from './buffer.ts';
export { DEFAULT_METRICS_PORT, MetricsServerError, startMetricsServer, TelemetryMetrics } from './metrics.ts';
export type { MetricsServer } from './metrics.ts';
export { TelemetryNode, telemetryNodeCommand } from './node.ts';
export type { RecordSink, TelemetryNodeOptions, TelemetryParams } from './node.ts';
export { TELEMETRY_NODE_NAME, TELEMETRY_PARAMS } from './params.ts';
export { TelemetryPublisher, TelemetryRecordError } from './publisher.ts';
export type { PublisherStats, TelemetryPublisherOptions } from './publisher.ts';
export {
  parsePayload,
  parseRobotStatus,
  parseTelemetry,
  robotStatusSchema,
  TELEMETRY_VERSION,
  telemetrySchema,
  WATCHDOG_STATES,
} from './schema.ts';
export type { Parsed, RobotStatus, TelemetryRecord } from './schema.ts';
export { SIM_RECORDS_PER_ROUND, simulatedRecord, startSimulatedFleet } from './simulated.ts';
export type { SimulatedFleet, SimulatedFleetOptions, SimulatedRobotSpec } from './simulated.ts';
export { cpuLoadBetween, cpuTimes, SystemProbe } from './system.ts';
export type { CpuTimes } from './system.ts';
export {
  otaStateFilter,
  otaStateTopic,
  parseTelemetryTopic,
  planProposalFilter,
  robotStatusFilter,
  robotStatusTopic,
  telemetryFilter,
  telemetryTopic,
} from './topics.ts';
export type { TelemetryTopic } from './topics.ts';
