// `fadnet record --out FILE.mcap [--topics /a,/b:pkg/msg/Type] [--duration S]`: records live
// topics to MCAP as `ros2 bag record` would, on ROS 2 when sourced, else on the embedded bus.
// Stops on SIGINT/SIGTERM or after the duration and prints what it recorded per topic.
import { numberArg, parseCommandArgs, UsageError, wantsHelp } from '../../common/index.ts';
import {
  createTransport,
  MESSAGE_TYPE_NAMES,
  type MessageTypeName,
  type MessageTypes,
  type QoS,
  type Transport,
} from '../runtime/index.ts';
import { McapRecorder, nsFromMs, type RecordedTopic } from './index.ts';

export const RECORD_NODE_NAME = 'fadnet_record';

export const DEFAULT_RECORD_TOPICS: readonly RecordedTopic[] = [
  { topic: '/camera/camera/color/image_raw', type: 'sensor_msgs/msg/Image' },
  { topic: '/cmd_vel', type: 'geometry_msgs/msg/Twist' },
  { topic: '/fadnet/steering', type: 'std_msgs/msg/Float32' },
  { topic: '/expert/steering', type: 'std_msgs/msg/Float32' },
];

/**
 * Best effort matches every publisher, reliable or not (a reliable subscription would miss
 * best-effort camera drivers); the depth absorbs bursts while the disk catches up.
 */
const QOS_RECORD: QoS = {
  reliability: 'best_effort',
  history: 'keep_last',
  depth: 50,
  durability: 'volatile',
};

/** Frames waiting for the disk beyond this are dropped and counted rather than growing memory. */
const MAX_PENDING_BYTES = 256 * 1024 * 1024;

const USAGE = `usage: fadnet record --out FILE.mcap [--topics TOPIC[:TYPE],...] [--duration SECONDS]
  default topics: ${DEFAULT_RECORD_TOPICS.map((t) => `${t.topic}:${t.type}`).join(',')}
  types: ${MESSAGE_TYPE_NAMES.join(', ')}`;

export interface RecordArgs {
  readonly out: string;
  readonly topics: readonly RecordedTopic[];
  readonly durationS: number | undefined;
}

export class RecordArgsError extends Error {
  override readonly name = 'RecordArgsError';
}

function isTypeName(name: string): name is MessageTypeName {
  return (MESSAGE_TYPE_NAMES as readonly string[]).includes(name);
}

/** `/topic:pkg/msg/Type`, or `/topic` alone for one of the default topics. */
export function parseTopicSpec(spec: string): RecordedTopic {
  const colon = spec.indexOf(':');
  const topic = colon < 0 ? spec : spec.slice(0, colon);
  if (!topic.startsWith('/')) throw new RecordArgsError(`topic "${topic}" must be absolute (start with /)`);
  if (colon < 0) {
    const known = DEFAULT_RECORD_TOPICS.find((t) => t.topic === topic);
    if (known === undefined) throw new RecordArgsError(`topic ${topic} needs a type: ${topic}:pkg/msg/Type`);
    return known;
  }
  const type = spec.slice(colon + 1);
  if (!isTypeName(type)) {
    throw new RecordArgsError(
      `topic ${topic}: unknown type "${type}" (known: ${MESSAGE_TYPE_NAMES.join(', ')})`,
    );
  }
  return { topic, type };
}

/** The arguments of `fadnet record`; throws RecordArgsError or UsageError naming what was wrong. */
export function parseRecordArgs(args: readonly string[]): RecordArgs {
  const parsed = parseCommandArgs(args, {
    out: { type: 'string' },
    topics: { type: 'string' },
    duration: { type: 'string' },
  });
  if (parsed.help) throw new RecordArgsError('--help asks for the usage, not a recording');
  const { values } = parsed;
  if (values.out === undefined) throw new RecordArgsError('--out is required');
  let topics: readonly RecordedTopic[] = DEFAULT_RECORD_TOPICS;
  if (values.topics !== undefined) {
    const specs = values.topics.split(',').filter((s) => s.trim() !== '');
    topics = specs.map((s) => parseTopicSpec(s.trim()));
    const names = topics.map((t) => t.topic);
    const twice = names.find((n, k) => names.indexOf(n) !== k);
    if (twice !== undefined) throw new RecordArgsError(`topic ${twice} is listed twice`);
    if (topics.length === 0) throw new RecordArgsError('--topics lists no topic');
  }
  const durationS =
    values.duration === undefined ? undefined : numberArg('--duration', values.duration, { above: 0 });
  return { out: values.out, topics, durationS };
}

export interface RecordIo {
  /** The transport to record from; by default ROS 2 when sourced, else the embedded bus. */
  readonly transport?: Transport;
  /** Stops the recording as SIGINT does (tests, an embedding process). */
  readonly signal?: AbortSignal;
  readonly stdout?: (line: string) => void;
  readonly stderr?: (line: string) => void;
}

/** The error's message followed by its causes', so "writing failed" says why (ENOSPC, ...). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (
    let e: unknown = error;
    e !== undefined && parts.length < 4;
    e = e instanceof Error ? e.cause : undefined
  ) {
    parts.push(e instanceof Error ? e.message : String(e));
  }
  return parts.join(': ');
}

export async function recordCommand(args: string[], io: RecordIo = {}): Promise<number> {
  const stdout = io.stdout ?? console.log;
  const stderr = io.stderr ?? console.error;
  if (wantsHelp(args)) {
    stdout(USAGE);
    return 0;
  }
  let parsed: RecordArgs;
  try {
    parsed = parseRecordArgs(args);
  } catch (error) {
    if (!(error instanceof RecordArgsError || error instanceof UsageError)) throw error;
    stderr(`fadnet record: ${error.message}\n${USAGE}`);
    return 2;
  }
  let recorder: McapRecorder;
  try {
    recorder = await McapRecorder.open(parsed.out, { topics: parsed.topics });
  } catch (error) {
    stderr(`fadnet record: ${describe(error)}`);
    return 1;
  }
  const transport = io.transport ?? (await createTransport('auto', stderr));
  const node = transport.createNode(RECORD_NODE_NAME);
  const dropped = new Map<string, number>();
  let failure: unknown;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });

  for (const { topic, type } of parsed.topics) {
    const onMessage = (message: MessageTypes[typeof type]): void => {
      if (failure !== undefined) return;
      if (recorder.pendingBytes > MAX_PENDING_BYTES) {
        dropped.set(topic, (dropped.get(topic) ?? 0) + 1);
        return;
      }
      recorder.write(topic, type, message, nsFromMs(node.clock.now())).catch((error: unknown) => {
        failure ??= error;
        stop();
      });
    };
    node.createSubscription(type, topic, QOS_RECORD, onMessage);
  }

  const startMs = node.clock.now();
  const onSignal = (): void => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  io.signal?.addEventListener('abort', onSignal, { once: true });
  const cancelTimer =
    parsed.durationS === undefined ? undefined : node.clock.after(parsed.durationS * 1000, stop);
  stdout(
    `recording ${parsed.topics.map((t) => t.topic).join(', ')} to ${parsed.out}` +
      (parsed.durationS === undefined ? ' until Ctrl-C' : ` for ${parsed.durationS} s`),
  );
  if (io.signal?.aborted === true) stop();
  await stopped;

  cancelTimer?.();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  io.signal?.removeEventListener('abort', onSignal);
  node.destroy();
  if (io.transport === undefined) await transport.shutdown();
  const elapsedS = (node.clock.now() - startMs) / 1000;
  try {
    const summary = await recorder.close();
    stdout(`recorded ${summary.messages} messages in ${elapsedS.toFixed(1)} s to ${summary.file}`);
    for (const { topic, type } of parsed.topics) {
      const count = summary.topics.get(topic)?.messages ?? 0;
      const lost = dropped.get(topic) ?? 0;
      stdout(`  ${topic}  ${type}  ${count}${lost > 0 ? `  (${lost} dropped: disk too slow)` : ''}`);
    }
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) {
    stderr(`fadnet record: ${describe(failure)}`);
    return 1;
  }
  return 0;
}
