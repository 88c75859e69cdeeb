// `fadnet node telemetry`: the robot's telemetry as a ROS 2 node process beside steering, the
// silo and the motor bridge. It only listens to what those nodes already publish (/diagnostics,
// /fadnet/steering, /battery_state), so it changes none of them, and once per period it makes a
// record, publishes it over MQTT and updates the Prometheus endpoint with the same figures.

import { parseCommandArgs } from '../../common/index.ts';
import {
  createRemappedNode,
  createTransport,
  ParameterError,
  parameterSources,
  parseRosArgs,
  QOS_STATUS,
  resolveParameters,
  terminationSignal,
} from '../../nodes/runtime/index.ts';
import type { Cancel, NodeHandle } from '../../nodes/runtime/index.ts';
import type { NodeParamValues } from '../../nodes/runtime/params.ts';
import { TelemetryAggregator, type SystemSample } from './aggregator.ts';
import { startMetricsServer, TelemetryMetrics } from './metrics.ts';
import { TELEMETRY_NODE_NAME, TELEMETRY_PARAMS } from './params.ts';
import { TelemetryPublisher, type PublisherStats } from './publisher.ts';
import type { TelemetryRecord } from './schema.ts';
import { SystemProbe } from './system.ts';

export type TelemetryParams = NodeParamValues<typeof TELEMETRY_PARAMS>;

/** Where records go: the MQTT publisher on a robot, a list in tests. */
export interface RecordSink {
  publish(record: TelemetryRecord): void;
  readonly stats: PublisherStats;
}

export interface TelemetryNodeOptions {
  readonly node: NodeHandle;
  readonly params: Pick<
    TelemetryParams,
    'fleet' | 'robot_id' | 'diagnostics_topic' | 'steering_topic' | 'battery_topic' | 'rate_hz'
  >;
  readonly sink: RecordSink;
  readonly metrics: TelemetryMetrics;
  readonly system: { sample(): SystemSample };
  readonly log?: (line: string) => void;
}

export class TelemetryNode {
  readonly #aggregator: TelemetryAggregator;
  readonly #cancel: Cancel[] = [];
  readonly #o: TelemetryNodeOptions;

  constructor(o: TelemetryNodeOptions) {
    this.#o = o;
    const { node, params: p } = o;
    const log = o.log ?? ((line) => console.error(line));
    this.#aggregator = new TelemetryAggregator({ fleet: p.fleet, robot: p.robot_id, clock: node.clock });
    const subs = [
      node.createSubscription('diagnostic_msgs/msg/DiagnosticArray', p.diagnostics_topic, QOS_STATUS, (m) => {
        for (const error of this.#aggregator.diagnostics(m)) log(`[${node.name}] ${error.message}; ignored`);
      }),
      node.createSubscription('std_msgs/msg/Float32', p.steering_topic, QOS_STATUS, (m) =>
        this.#aggregator.steering(m.data),
      ),
      node.createSubscription('sensor_msgs/msg/BatteryState', p.battery_topic, QOS_STATUS, (m) =>
        this.#aggregator.battery(m),
      ),
    ];
    this.#cancel.push(() => subs.forEach((s) => s.close()));
    this.#cancel.push(node.clock.every(1000 / p.rate_hz, () => this.tick()));
  }

  /** One record now (the timer calls it every period). */
  tick(): TelemetryRecord {
    const record = this.#aggregator.record(this.#o.system.sample(), this.#o.sink.stats.dropped);
    this.#o.sink.publish(record);
    this.#o.metrics.update(record, this.#o.sink.stats);
    return record;
  }

  destroy(): void {
    for (const c of this.#cancel.splice(0)) c();
    this.#o.node.destroy();
  }
}

const USAGE = `usage: fadnet node telemetry [--embedded] [--ros-args [-p name:=value] [--params-file FILE] [-r __node:=NAME]]
  parameters: ${Object.keys(TELEMETRY_PARAMS).join(', ')}`;

export async function telemetryNodeCommand(argv: string[]): Promise<number> {
  const ros = parseRosArgs(argv);
  const parsed = parseCommandArgs(ros.rest, { embedded: { type: 'boolean', default: false } });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const nodeName = ros.nodeName ?? TELEMETRY_NODE_NAME;
  const p: TelemetryParams = resolveParameters(
    nodeName,
    TELEMETRY_PARAMS,
    await parameterSources(ros, nodeName),
  );
  if (p.robot_id === '')
    throw new ParameterError(`${nodeName}: parameter robot_id must be set`, nodeName, 'robot_id');
  const metrics = new TelemetryMetrics();
  const server = await startMetricsServer(metrics, { host: p.metrics_host, port: p.metrics_port });
  const publisher = TelemetryPublisher.start({
    url: p.broker_url,
    fleet: p.fleet,
    robot: p.robot_id,
    limits: { maxRecords: p.buffer_max_records, maxBytes: p.buffer_max_bytes },
  });
  const transport = await createTransport(parsed.values.embedded ? 'embedded' : 'auto');
  const node = createRemappedNode(transport, nodeName, ros.remaps, { useSimTime: p.use_sim_time });
  const telemetry = new TelemetryNode({
    node,
    params: p,
    sink: publisher,
    metrics,
    system: new SystemProbe(),
  });
  console.error(
    `[${nodeName}] robot ${p.robot_id} of fleet ${p.fleet}: telemetry every ${(1000 / p.rate_hz).toFixed(0)} ms to ${p.broker_url}, metrics on ${server.url}`,
  );
  try {
    await terminationSignal();
  } finally {
    telemetry.destroy();
    await publisher.close();
    await server.close();
    await transport.shutdown();
  }
  return 0;
}
