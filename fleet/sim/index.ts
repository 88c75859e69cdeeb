// Public surface of the fleet simulation: a fleet of real silo processes on one machine, link
// delays emulated from a network, and the average model evaluated on the held-out world.

export { fleetCommand } from './cli.ts';
export { FleetSimAbortedError, FleetSimConfigError, SiloProcessError } from './errors.ts';
export { startLinkProxy } from './link-proxy.ts';
export type { LinkProxy, LinkProxyOptions } from './link-proxy.ts';
export { MqttFrames, MqttFramingError, publishTopic } from './mqtt-frames.ts';
export { FleetObserver } from './observer.ts';
export type { ObservedRound, ObserverOptions } from './observer.ts';
export { pngFromSvg, rmseChartSvg } from './plot.ts';
export type { Curve, CurvePoint } from './plot.ts';
export { rmseOf, runFleetSim } from './run.ts';
export type { FleetSimOptions, FleetSimResult, FleetSimSources } from './run.ts';
export { buildScenario, linkKey, SIM_TOPOLOGIES } from './scenario.ts';
export type { Scenario, ScenarioOptions, SimTopology } from './scenario.ts';
