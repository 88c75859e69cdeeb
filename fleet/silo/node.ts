// `fadnet node silo`: the silo as a ROS 2 node process, started by ros2 launch beside the
// steering node (`--ros-args -p ... --params-file ...`). It is its own process at the lowest CPU
// priority with one training replica, so training never takes a core from steering; it reports
// each round on /diagnostics.

import { parseCommandArgs } from '../../common/index.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import {
  createRemappedNode,
  createTransport,
  DiagnosticLevel,
  ParameterError,
  parameterSources,
  parseRosArgs,
  QOS_STATUS,
  resolveParameters,
  terminationSignal,
  timeFromMs,
} from '../../nodes/runtime/index.ts';
import type { NodeParamValues } from '../../nodes/runtime/params.ts';
import type { Encoding } from '../exchange/index.ts';
import { mcapFilesIn, readPlanFile } from './adapters.ts';
import { SILO_NODE_NAME, SILO_PARAMS } from './params.ts';
import { defaultPlan } from './plan.ts';
import { roundLine, runSilo } from './run.ts';
import type { RoundReport } from './silo.ts';

export type SiloParams = NodeParamValues<typeof SILO_PARAMS>;

const USAGE = `usage: fadnet node silo [--embedded] [--ros-args [-p name:=value] [--params-file FILE] [-r __node:=NAME]]
  parameters: ${Object.keys(SILO_PARAMS).join(', ')}`;

export async function siloNodeCommand(argv: string[]): Promise<number> {
  const ros = parseRosArgs(argv);
  const parsed = parseCommandArgs(ros.rest, { embedded: { type: 'boolean', default: false } });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const nodeName = ros.nodeName ?? SILO_NODE_NAME;
  const p: SiloParams = resolveParameters(nodeName, SILO_PARAMS, await parameterSources(ros, nodeName));
  if (p.silo_id === '')
    throw new ParameterError(`${nodeName}: parameter silo_id must be set`, nodeName, 'silo_id');
  const plan = p.plan_file !== '' ? await readPlanFile(p.plan_file) : defaultPlan(p.silos, 'parameter silos');
  const { McapDataset } = await import('../../models/src/dataset/index.ts');
  const dataset = await McapDataset.open(await mcapFilesIn(p.data_dir), {
    inputSpec: FADNET_INPUT_SPEC,
    split: { testFraction: 0.1, seed: 0 },
    which: 'train',
  });
  const transport = await createTransport(parsed.values.embedded ? 'embedded' : 'auto');
  const node = createRemappedNode(transport, nodeName, ros.remaps);
  const status = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', p.status_topic, QOS_STATUS);
  const publish = (r: RoundReport): void =>
    status.publish({
      header: { stamp: timeFromMs(node.clock.now()), frame_id: '' },
      status: [
        {
          level: r.missing.length > 0 ? DiagnosticLevel.WARN : DiagnosticLevel.OK,
          name: `${node.name}: silo`,
          message: roundLine(p.silo_id, r),
          hardware_id: p.silo_id,
          values: [
            { key: 'round', value: String(r.round) },
            { key: 'isolated', value: String(r.isolated) },
            { key: 'peers_mixed', value: r.mixed.map((m) => `${m.peer}@${m.round}`).join(',') },
            { key: 'peers_timed_out', value: r.missing.join(',') },
            { key: 'round_ms', value: r.roundMs.toFixed(0) },
            // Read by the telemetry node (fleet/telemetry); absent when not known.
            ...(r.loss === undefined ? [] : [{ key: 'loss', value: r.loss.toPrecision(6) }]),
            ...(r.exchangeBytes === undefined
              ? []
              : [
                  { key: 'bytes_sent', value: String(r.exchangeBytes.sent) },
                  { key: 'bytes_received', value: String(r.exchangeBytes.received) },
                ]),
          ],
        },
      ],
    });
  const controller = new AbortController();
  void terminationSignal().then(() => controller.abort());
  try {
    await runSilo(
      {
        fleet: p.fleet,
        id: p.silo_id,
        brokerUrl: p.broker_url === '' ? undefined : p.broker_url,
        embeddedBroker: { host: p.embedded_broker_host, port: p.embedded_broker_port },
        ...(p.live_plan
          ? { livePlan: { probeEveryMs: p.live_plan_probe_ms, marginRounds: p.live_plan_margin_rounds } }
          : {}),
        plan,
        dataset,
        dir: p.state_dir,
        localSteps: p.local_steps,
        batchSize: p.batch_size,
        lr: p.learning_rate,
        seed: 0,
        peerTimeoutMs: p.peer_timeout_ms,
        rule: p.mixing === 'trimmed-mean' ? { kind: 'trimmed-mean', trim: p.trim } : { kind: p.mixing },
        encoding: p.encoding as Encoding,
        nice: p.nice,
      },
      controller.signal,
      (line) => console.error(line),
      (report) => {
        console.log(roundLine(p.silo_id, report));
        publish(report);
      },
    );
  } finally {
    node.destroy();
    await transport.shutdown();
  }
  return 0;
}
