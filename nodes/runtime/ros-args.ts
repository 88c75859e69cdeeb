// The part of `--ros-args` a node needs, as ros2 launch and ros2 run pass it:
// `-p name:=value`, `--params-file FILE`, `-r from:=to` (topic remaps), `-r __node:=name`.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parametersFromYaml, parseOverrides } from './params.ts';
import type { NodeHandle, NodeOptions, Transport } from './transport.ts';

export interface RosArgs {
  readonly params: string[];
  readonly paramFiles: string[];
  readonly remaps: ReadonlyMap<string, string>;
  readonly nodeName: string | undefined;
  /** Arguments before --ros-args (or all, if none). */
  readonly rest: string[];
}

export class RosArgsError extends Error {
  override readonly name = 'RosArgsError';
}

export function parseRosArgs(argv: readonly string[]): RosArgs {
  const params: string[] = [];
  const paramFiles: string[] = [];
  const remaps = new Map<string, string>();
  let nodeName: string | undefined;
  const rest: string[] = [];
  let inRos = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--ros-args') {
      inRos = true;
      continue;
    }
    if (a === '--') {
      inRos = false;
      continue;
    }
    // Our own flags accept the same forms outside --ros-args, for convenience.
    const needs = (flag: string): string => {
      const v = argv[++i];
      if (v === undefined) throw new RosArgsError(`${flag} needs a value`);
      return v;
    };
    if (a === '-p' || a === '--param') params.push(needs(a));
    else if (a === '--params-file') paramFiles.push(needs(a));
    else if (a === '-r' || a === '--remap') {
      const rule = needs(a);
      const at = rule.indexOf(':=');
      if (at <= 0) throw new RosArgsError(`remap "${rule}" is not from:=to`);
      const from = rule.slice(0, at);
      const to = rule.slice(at + 2);
      if (from === '__node' || from === '__name') nodeName = to;
      else if (from === '__ns')
        continue; // namespaces come with ROS 2; the embedded bus has one
      else remaps.set(from.startsWith('/') ? from : `/${from}`, to.startsWith('/') ? to : `/${to}`);
    } else if (inRos) {
      if (a === '--log-level' || a === '--enclave') i++;
      // other rcl arguments concern ROS 2 itself and are left to it
    } else rest.push(a);
  }
  return { params, paramFiles, remaps, nodeName, rest };
}

/** Applies topic remaps to everything a node creates (the embedded bus has no rcl to do it). */
export function remapped(node: NodeHandle, remaps: ReadonlyMap<string, string>): NodeHandle {
  if (remaps.size === 0) return node;
  const map = (topic: string): string => remaps.get(topic) ?? topic;
  return {
    name: node.name,
    clock: node.clock,
    createPublisher: (type, topic, qos) => node.createPublisher(type, map(topic), qos),
    createSubscription: (type, topic, qos, cb) => node.createSubscription(type, map(topic), qos, cb),
    destroy: () => node.destroy(),
  };
}

/**
 * A node on `transport` with `--ros-args` remaps in force: on ROS 2, rcl applies them itself
 * (ros2 launch passes them through), so only the embedded bus needs them applied here.
 */
export function createRemappedNode(
  transport: Transport,
  name: string,
  remaps: RosArgs['remaps'],
  options: NodeOptions = {},
): NodeHandle {
  const node = transport.createNode(name, options);
  return transport.kind === 'embedded' ? remapped(node, remaps) : node;
}

export interface ParameterSource {
  readonly name: string;
  readonly values: Readonly<Record<string, unknown>>;
}

/** The parameter sources `--ros-args` names, in precedence order: params files, then `-p`. */
export async function parameterSources(args: RosArgs, nodeName: string): Promise<ParameterSource[]> {
  const sources: ParameterSource[] = [];
  for (const file of args.paramFiles) {
    sources.push({
      name: path.basename(file),
      values: parametersFromYaml(await readFile(file, 'utf8'), nodeName, file),
    });
  }
  sources.push({ name: 'command line', values: parseOverrides(args.params, nodeName) });
  return sources;
}
