// The node runtime: one typed publish/subscribe/parameter interface over two transports.
export { EmbeddedBus } from './embedded.ts';
export type { TopicStats } from './embedded.ts';
export { Ros2Transport, Ros2UnavailableError, ros2EnvironmentSourced } from './rclnodejs.ts';
export { TopicTypeError } from './transport.ts';
export type { NodeHandle, NodeOptions, Publisher, Subscription, Transport } from './transport.ts';
export { ManualClock, systemClock } from './clock.ts';
export type { Cancel, Clock, TimeJump } from './clock.ts';
export { CLOCK_TOPIC, ClockMessageError, clockMessageMs, SimTimeClock } from './sim-time.ts';
export {
  QOS_CLOCK,
  QOS_CLOCK_PUBLISHER,
  QOS_COMMANDS,
  QOS_LATCHED,
  QOS_SENSOR_DATA,
  QOS_STATUS,
} from './qos.ts';
export type { QoS } from './qos.ts';
export {
  NODE_PARAMS,
  ParameterError,
  parametersFromYaml,
  parseOverrides,
  resolveParameters,
} from './params.ts';
export type { NodeParamValues, ParamDecl, ParamDecls, ParamType, ParamValues } from './params.ts';
export { DiagnosticLevel, MESSAGE_TYPE_NAMES, timeFromMs, timeToMs, zeroTwist } from './messages.ts';
export type * from './messages.ts';
export { createTransport } from './select.ts';
export { terminationSignal } from './signals.ts';
export type { TerminationSignal } from './signals.ts';
export { createRemappedNode, parameterSources, parseRosArgs, remapped, RosArgsError } from './ros-args.ts';
export type { ParameterSource, RosArgs } from './ros-args.ts';
