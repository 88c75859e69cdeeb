// `fadnet node steering`: the steering node as a process, as ros2 launch starts it
// (`--ros-args -p ... --params-file ... -r from:=to`), on ROS 2 when sourced, else embedded.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../models/src/engine/engine.ts';
import { loadModelPackage } from '../../models/src/files.ts';
import { LiveView } from '../live/index.ts';
import {
  createTransport,
  EmbeddedBus,
  parameterSources,
  parseRosArgs,
  ParameterError,
  remapped,
  resolveParameters,
  terminationSignal,
  type Transport,
} from '../runtime/index.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from './params.ts';
import { SteeringNode, type SteeringParams } from './steering-node.ts';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/** Relative model paths resolve against the working directory, then the project root. */
async function resolveModelPath(p: string): Promise<string> {
  if (path.isAbsolute(p)) return p;
  const local = path.resolve(p);
  try {
    await access(local);
    return local;
  } catch {
    return path.join(PROJECT_ROOT, p);
  }
}

export async function loadSteeringParams(
  argv: readonly string[],
  nodeName = STEERING_NODE_NAME,
): Promise<SteeringParams> {
  const sources = await parameterSources(parseRosArgs(argv), nodeName);
  return resolveParameters(nodeName, STEERING_PARAMS, sources);
}

export function providersFrom(list: string, node: string): ExecutionProvider[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) {
    if (!(EXECUTION_PROVIDERS as readonly string[]).includes(n)) {
      throw new ParameterError(
        `parameter execution_providers of node ${node}: unknown provider "${n}" (known: ${EXECUTION_PROVIDERS.join(', ')})`,
        node,
        'execution_providers',
      );
    }
  }
  return names as ExecutionProvider[];
}

export interface RunningSteering {
  readonly node: SteeringNode;
  stop(): Promise<void>;
}

/** Builds engine and node on a transport; what both the CLI and the simulator start. */
export async function startSteering(
  transport: Transport,
  params: SteeringParams,
  argv: readonly string[] = [],
): Promise<RunningSteering> {
  const ros = parseRosArgs(argv);
  const nodeName = ros.nodeName ?? STEERING_NODE_NAME;
  const model = await loadModelPackage(await resolveModelPath(params.model_manifest));
  const engine = await OnnxEngine.create({
    onnx: model.onnx,
    inputName: model.manifest.onnx.inputName,
    outputName: model.manifest.onnx.outputName,
    config: {
      executionProviders: providersFrom(params.execution_providers, nodeName),
      intraOpThreads: params.intra_op_threads,
    },
  });
  const handle =
    transport.kind === 'embedded'
      ? remapped(transport.createNode(nodeName), ros.remaps)
      : transport.createNode(nodeName);
  const node = SteeringNode.create({
    node: handle,
    engine,
    inputSpec: model.manifest.input,
    params,
    modelVersion: `${model.manifest.name}@${model.manifest.version}`,
  });
  return {
    node,
    stop: async () => {
      node.destroy();
      await engine.dispose();
    },
  };
}

export async function steeringNodeCommand(argv: string[]): Promise<number> {
  const params = await loadSteeringParams(argv, parseRosArgs(argv).nodeName ?? STEERING_NODE_NAME);
  const transport = await createTransport(argv.includes('--embedded') ? 'embedded' : 'auto');
  const running = await startSteering(transport, params, argv);
  // In embedded mode the Foxglove live view is the way to see the node: `--live [PORT]`.
  const liveAt = argv.indexOf('--live');
  const live =
    liveAt >= 0 && transport instanceof EmbeddedBus
      ? await LiveView.start({
          bus: transport,
          port: /^\d+$/.test(argv[liveAt + 1] ?? '') ? Number(argv[liveAt + 1]) : 8765,
        })
      : undefined;
  if (live !== undefined) console.error(`live view: connect Foxglove to ${live.url}`);
  await terminationSignal();
  await live?.close();
  await running.stop();
  await transport.shutdown();
  return 0;
}
