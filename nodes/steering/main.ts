// `fadnet node steering`: the steering node as a process, as ros2 launch starts it
// (`--ros-args -p ... --params-file ... -r from:=to`), on ROS 2 when sourced, else embedded.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { numberArg, parseCommandArgs } from '../../common/index.ts';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { loadModelPackage } from '../../models/src/files.ts';
import { LiveView } from '../live/index.ts';
import {
  createRemappedNode,
  createTransport,
  EmbeddedBus,
  parameterSources,
  parseRosArgs,
  resolveParameters,
  terminationSignal,
  type Transport,
} from '../runtime/index.ts';
import type { ModelManifest } from '../../models/src/manifest.ts';
import { readActivePointer, storedManifestPath } from '../../models/src/model-store.ts';
import { checkedPrecision, providerOptionsFrom } from './accelerator.ts';
import { ModelFollower, type FollowerEvent } from './model-follower.ts';
import { STEERING_NODE_NAME, STEERING_PARAMS } from './params.ts';
import { SteeringNode, type SteeringModel, type SteeringParams } from './steering-node.ts';

const USAGE = `usage: fadnet node steering [--embedded] [--live] [--live-port PORT]
                          [--ros-args [-p name:=value] [--params-file FILE] [-r from:=to] [-r __node:=NAME]]

  --embedded        the in-process bus even when ROS 2 is sourced
  --live            on the embedded bus, serve the Foxglove live view
  --live-port PORT  its port (default 8765)
  parameters: ${Object.keys(STEERING_PARAMS).join(', ')}
  (lists as YAML: -p execution_providers:=[cuda,cpu])`;

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

export interface RunningSteering {
  readonly node: SteeringNode;
  /** Follows the OTA model store when `model_store` is set. */
  readonly follower: ModelFollower | undefined;
  stop(): Promise<void>;
}

/** Loads a model package into a warm engine on the node's providers. */
export async function loadSteeringModel(
  manifestPath: string,
  params: SteeringParams,
  nodeName: string,
): Promise<SteeringModel & { readonly manifest: ModelManifest }> {
  const model = await loadModelPackage(manifestPath);
  const engine = await OnnxEngine.create({
    onnx: model.onnx,
    // A package whose ONNX input and input spec disagree is refused here, naming both.
    input: model.manifest.input,
    inputName: model.manifest.onnx.inputName,
    outputName: model.manifest.onnx.outputName,
    precision: checkedPrecision(params.model_precision, model.manifest, nodeName),
    config: {
      executionProviders: [...params.execution_providers],
      intraOpThreads: params.intra_op_threads,
      providerOptions: providerOptionsFrom(params),
    },
  });
  return {
    engine,
    manifest: model.manifest,
    inputSpec: model.manifest.input,
    modelVersion: `${model.manifest.name}@${model.manifest.version}`,
  };
}

export interface StartSteeringOptions {
  readonly onModelEvent?: (event: FollowerEvent) => void;
}

/** Builds engine and node on a transport; what both the CLI and the simulator start. */
export async function startSteering(
  transport: Transport,
  params: SteeringParams,
  argv: readonly string[] = [],
  options: StartSteeringOptions = {},
): Promise<RunningSteering> {
  const ros = parseRosArgs(argv);
  const nodeName = ros.nodeName ?? STEERING_NODE_NAME;
  // The store resolves as the OTA agent resolves it (the working directory; ros2 launch starts
  // both in the checkout), whether or not it exists yet.
  const store = params.model_store === '' ? undefined : path.resolve(params.model_store);
  // With a store, its pointer names the model; model_manifest is for a robot before its first.
  const pointer = store === undefined ? undefined : await readActivePointer(store);
  const manifestPath =
    store !== undefined && pointer !== undefined
      ? storedManifestPath(store, pointer.active)
      : await resolveModelPath(params.model_manifest);
  const model = await loadSteeringModel(manifestPath, params, nodeName);
  const handle = createRemappedNode(transport, nodeName, ros.remaps, { useSimTime: params.use_sim_time });
  const node = SteeringNode.create({ node: handle, params, ...model });
  const follower =
    store === undefined
      ? undefined
      : ModelFollower.start({
          store,
          node,
          // Started from model_manifest, the node does not reload the same model when the
          // agent's first pointer names it.
          current: pointer?.active ?? {
            version: model.manifest.version,
            manifest: path.basename(manifestPath),
            onnxSha256: model.manifest.onnx.sha256,
          },
          load: (m) => loadSteeringModel(m, params, nodeName),
          pollMs: params.model_store_poll_ms,
          nodeName,
          ...(options.onModelEvent === undefined ? {} : { onEvent: options.onModelEvent }),
        });
  return {
    node,
    follower,
    stop: async () => {
      await follower?.stop();
      node.destroy();
      await node.engine.dispose();
    },
  };
}

export async function steeringNodeCommand(argv: string[]): Promise<number> {
  const ros = parseRosArgs(argv);
  const parsed = parseCommandArgs(ros.rest, {
    embedded: { type: 'boolean', default: false },
    live: { type: 'boolean', default: false },
    'live-port': { type: 'string', default: '8765' },
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const livePort = numberArg('--live-port', parsed.values['live-port'], {
    integer: true,
    min: 0,
    max: 65535,
  });
  const params = await loadSteeringParams(argv, ros.nodeName ?? STEERING_NODE_NAME);
  const transport = await createTransport(parsed.values.embedded ? 'embedded' : 'auto');
  const running = await startSteering(transport, params, argv);
  // In embedded mode the Foxglove live view is the way to see the node.
  const live =
    parsed.values.live && transport instanceof EmbeddedBus
      ? await LiveView.start({ bus: transport, port: livePort })
      : undefined;
  if (live !== undefined) console.error(`live view: connect Foxglove to ${live.url}`);
  await terminationSignal();
  await live?.close();
  await running.stop();
  await transport.shutdown();
  return 0;
}
