// `fadnet node ota`: the update agent as a ROS 2 node process, started by ros2 launch beside the
// steering node. It owns the model store; the steering node follows the store's pointer. Each
// state change goes to the fleet (retained MQTT status) and to /diagnostics.
import path from 'node:path';
import { parseCommandArgs } from '../../common/index.ts';
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
  type NodeParamValues,
} from '../../nodes/runtime/index.ts';
import { readTrustedKeysFile } from '../exchange/index.ts';
import { OtaAgent, type PausePoint } from './agent.ts';
import { MqttOtaLink } from './mqtt-link.ts';
import { OTA_NODE_NAME, OTA_PARAMS } from './params.ts';
import type { OtaStatus } from './status.ts';
import { ModelStore } from './store.ts';

export type OtaParams = NodeParamValues<typeof OTA_PARAMS>;

const USAGE = `usage: fadnet node ota [--embedded] [--ros-args [-p name:=value] [--params-file FILE] [-r __node:=NAME]]
  parameters: ${Object.keys(OTA_PARAMS).join(', ')}`;

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The fault drill's stop points (FADNET_OTA_PAUSE_AT=download:N | staging | swap | probation): the
 * agent stops there and says so on stderr, for the drill to kill it with SIGKILL. Not a
 * parameter: no robot configuration can set it.
 */
export function pausePointFrom(text: string | undefined): PausePoint | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^download:(\d+)$/.exec(text);
  if (m !== null) return { stage: 'download', afterChunks: Number(m[1]) };
  if (text === 'staging' || text === 'swap' || text === 'probation') return { stage: text };
  throw new RangeError(`FADNET_OTA_PAUSE_AT must be download:N, staging, swap or probation, got "${text}"`);
}

const LEVEL: Record<OtaStatus['state'], number> = {
  idle: DiagnosticLevel.OK,
  downloading: DiagnosticLevel.OK,
  staging: DiagnosticLevel.OK,
  validating: DiagnosticLevel.OK,
  activating: DiagnosticLevel.OK,
  probation: DiagnosticLevel.OK,
  active: DiagnosticLevel.OK,
  rejected: DiagnosticLevel.WARN,
  rolled_back: DiagnosticLevel.WARN,
};

export function statusLine(s: OtaStatus): string {
  const release = s.release === null ? '' : ` release ${s.release.version}`;
  const progress =
    s.progress === null
      ? ''
      : ` (${s.progress.chunks}/${s.progress.of} chunks, ${s.progress.resumed} resumed)`;
  const reason = s.reason === null ? '' : `: ${s.reason.kind}: ${s.reason.message}`;
  return `${s.state}${release}${progress}, active ${s.active ?? 'none'}, previous ${s.previous ?? 'none'}${reason}`;
}

export async function otaNodeCommand(argv: string[]): Promise<number> {
  const ros = parseRosArgs(argv);
  const parsed = parseCommandArgs(ros.rest, { embedded: { type: 'boolean', default: false } });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const nodeName = ros.nodeName ?? OTA_NODE_NAME;
  const p: OtaParams = resolveParameters(nodeName, OTA_PARAMS, await parameterSources(ros, nodeName));
  if (p.robot_id === '')
    throw new ParameterError(`${nodeName}: parameter robot_id must be set`, nodeName, 'robot_id');
  const pauseAt = pausePointFrom(process.env.FADNET_OTA_PAUSE_AT);
  const log = (line: string): void => console.error(`[${nodeName}] ${line}`);
  const seed = path.isAbsolute(p.model_manifest)
    ? p.model_manifest
    : path.resolve(PROJECT_ROOT, p.model_manifest);
  const store = await ModelStore.open(path.resolve(p.model_store), { seed, log });
  const trusted = await readTrustedKeysFile(p.trusted_keys);
  const transport = await createTransport(parsed.values.embedded ? 'embedded' : 'auto');
  const node = createRemappedNode(transport, nodeName, ros.remaps);
  const diagnostics = node.createPublisher(
    'diagnostic_msgs/msg/DiagnosticArray',
    p.diagnostics_topic,
    QOS_STATUS,
  );
  const link = await MqttOtaLink.connect({ url: p.broker_url, fleet: p.fleet, client: p.robot_id, log });
  log(
    `model store ${store.dir}: active ${store.pointer?.active.version ?? 'none'}, previous ${store.pointer?.previous?.version ?? 'none'}`,
  );
  const agent = await OtaAgent.start({
    fleet: p.fleet,
    robot: p.robot_id,
    store,
    trusted,
    link,
    engine: { executionProviders: [...p.execution_providers], intraOpThreads: p.intra_op_threads },
    chunkIntervalMs: p.chunk_interval_ms,
    probationPollMs: p.probation_poll_ms,
    loadGraceMs: p.load_grace_s * 1000,
    ...(pauseAt === undefined ? {} : { pauseAt }),
    log,
    onStatus: (s) => {
      log(statusLine(s));
      diagnostics.publish({
        header: { stamp: timeFromMs(node.clock.now()), frame_id: '' },
        status: [
          {
            level: LEVEL[s.state],
            name: `${node.name}: ota`,
            message: statusLine(s),
            hardware_id: p.robot_id,
            values: [
              { key: 'state', value: s.state },
              { key: 'active', value: s.active ?? '' },
              { key: 'previous', value: s.previous ?? '' },
              { key: 'release', value: s.release?.version ?? '' },
              { key: 'reason', value: s.reason === null ? '' : `${s.reason.kind}: ${s.reason.message}` },
            ],
          },
        ],
      });
    },
  });
  await terminationSignal();
  void agent;
  await link.close();
  node.destroy();
  await transport.shutdown();
  return 0;
}
