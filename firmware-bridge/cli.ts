// `fadnet bridge --port PATH --baud N [--parity none|even|odd] [-p name:=value ...]`: runs the
// bridge node alone on the node runtime (ROS 2 when sourced, else the embedded bus) until
// SIGINT/SIGTERM, then e-stops the MCU and exits. `fadnet bridge --bench` runs the benchmark.
import { parseOverrides } from '../nodes/runtime/params.ts';
import { parameterSources, parseRosArgs, remapped } from '../nodes/runtime/ros-args.ts';
import { createTransport } from '../nodes/runtime/select.ts';
import { terminationSignal } from '../nodes/runtime/signals.ts';
import { benchCommand } from './bench.ts';
import { BRIDGE_NODE_NAME } from './params.ts';
import { BridgeNode } from './node.ts';

const USAGE = `usage: fadnet bridge --port PATH [--baud N] [--parity none|even|odd] [-p name:=value ...]
       fadnet bridge --bench [--count N] [--json]`;

export async function bridgeCommand(args: string[]): Promise<number> {
  if (args[0] === '--bench') return benchCommand(args.slice(1));
  const values: Record<string, unknown> = {};
  const overrides: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) {
      console.error(`fadnet bridge: ${flag} needs a value\n${USAGE}`);
      return 2;
    }
    if (flag === '--port') values['port'] = value;
    else if (flag === '--baud') values['baud'] = Number(value);
    else if (flag === '--parity') values['parity'] = value;
    else if (flag === '-p') overrides.push(value);
    else {
      console.error(`fadnet bridge: unknown option ${flag}\n${USAGE}`);
      return 2;
    }
  }
  if (values['port'] === undefined) {
    console.error(`fadnet bridge: --port is required\n${USAGE}`);
    return 2;
  }
  const transport = await createTransport('auto');
  const node = new BridgeNode({
    node: transport.createNode(BRIDGE_NODE_NAME),
    parameters: [
      { name: 'command line', values },
      { name: '-p overrides', values: parseOverrides(overrides, BRIDGE_NODE_NAME) },
    ],
  });
  const signal = await terminationSignal();
  await node.shutdown(`${signal}: e-stopped the motor controller and closed the port`);
  await transport.shutdown();
  return 0;
}

/**
 * `fadnet node bridge --ros-args --params-file F -p name:=value`: the bridge as ros2 launch
 * starts it (parameters from the launch's params file, port included).
 */
export async function bridgeNodeCommand(argv: string[]): Promise<number> {
  const ros = parseRosArgs(argv);
  const name = ros.nodeName ?? BRIDGE_NODE_NAME;
  const parameters = await parameterSources(ros, name);
  const transport = await createTransport(ros.rest.includes('--embedded') ? 'embedded' : 'auto');
  const handle =
    transport.kind === 'embedded'
      ? remapped(transport.createNode(name), ros.remaps)
      : transport.createNode(name);
  const node = new BridgeNode({ node: handle, parameters });
  const signal = await terminationSignal();
  await node.shutdown(`${signal}: e-stopped the motor controller and closed the port`);
  await transport.shutdown();
  return 0;
}
