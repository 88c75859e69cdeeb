// `fadnet bridge --port PATH --baud N [--parity none|even|odd] [-p name:=value ...]`: runs the
// bridge node alone on the node runtime (ROS 2 when sourced, else the embedded bus) until
// SIGINT/SIGTERM, then e-stops the MCU and exits. `fadnet bridge --bench` runs the benchmark.
import { stat } from 'node:fs/promises';
import { choiceArg, numberArg, parseCommandArgs, requiredArg, wantsHelp } from '../common/index.ts';
import { parseOverrides } from '../nodes/runtime/params.ts';
import { createRemappedNode, parameterSources, parseRosArgs } from '../nodes/runtime/ros-args.ts';
import { createTransport } from '../nodes/runtime/select.ts';
import { terminationSignal } from '../nodes/runtime/signals.ts';
import type { Transport } from '../nodes/runtime/transport.ts';
import { benchCommand } from './bench.ts';
import { SerialLinkError } from './errors.ts';
import { BRIDGE_NODE_NAME, BRIDGE_PARAMS } from './params.ts';
import { BridgeNode } from './node.ts';

const USAGE = `usage: fadnet bridge --port PATH [--baud N] [--parity none|even|odd] [--wait-for-port] [-p name:=value ...]
       fadnet bridge --bench [--count N] [--json]

  --port PATH       serial device of the motor controller
  --baud N          ${BRIDGE_PARAMS.baud.min} to ${BRIDGE_PARAMS.baud.max} (default ${BRIDGE_PARAMS.baud.default})
  --parity P        none (default), even or odd
  --wait-for-port   a PATH that does not exist yet is waited for (reopened every
                    reconnect_interval_ms) instead of refused
  -p name:=value    any bridge parameter: ${Object.keys(BRIDGE_PARAMS).join(', ')}`;

const NODE_USAGE = `usage: fadnet node bridge [--embedded] [--ros-args [-p name:=value] [--params-file FILE] [-r from:=to] [-r __node:=NAME]]

  runs the bridge as ros2 launch starts it; the port comes from the parameters and an absent
  device is waited for, as on a robot whose controller is plugged in later.`;

export async function bridgeCommand(args: string[]): Promise<number> {
  if (args[0] === '--bench' && !wantsHelp(args)) return benchCommand(args.slice(1));
  const parsed = parseCommandArgs(args, {
    port: { type: 'string' },
    baud: { type: 'string' },
    parity: { type: 'string' },
    'wait-for-port': { type: 'boolean', default: false },
    param: { type: 'string', short: 'p', multiple: true, default: [] },
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parsed;
  const port = requiredArg('--port', values.port);
  const flags: Record<string, unknown> = { port };
  if (values.baud !== undefined) {
    const { min, max } = BRIDGE_PARAMS.baud;
    flags['baud'] = numberArg('--baud', values.baud, { integer: true, min, max });
  }
  if (values.parity !== undefined)
    flags['parity'] = choiceArg('--parity', values.parity, BRIDGE_PARAMS.parity.choices);
  // A mistyped path would otherwise be retried forever with the process looking healthy.
  if (!values['wait-for-port']) await requireDevice(port);
  const transport = await createTransport('auto');
  const node = new BridgeNode({
    node: transport.createNode(BRIDGE_NODE_NAME),
    parameters: [
      { name: 'command line', values: flags },
      { name: '-p overrides', values: parseOverrides(values.param, BRIDGE_NODE_NAME) },
    ],
  });
  return runUntilSignal(node, transport);
}

async function requireDevice(port: string): Promise<void> {
  try {
    await stat(port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new SerialLinkError(port, 'does not exist (--wait-for-port waits for it to appear)', {
      cause: error,
    });
  }
}

/** Runs until SIGINT/SIGTERM; says it e-stopped the controller only when the port was open. */
async function runUntilSignal(node: BridgeNode, transport: Transport): Promise<number> {
  const signal = await terminationSignal();
  // The core sends its e-stop whenever the port is open (handshaking or running).
  const open = node.link.state !== 'disconnected';
  await node.shutdown(
    open
      ? `${signal}: e-stopped the motor controller and closed the port`
      : `${signal}: the port was not open, so no e-stop was sent`,
  );
  await transport.shutdown();
  return 0;
}

/**
 * `fadnet node bridge --ros-args --params-file F -p name:=value`: the bridge as ros2 launch
 * starts it (parameters from the launch's params file, port included).
 */
export async function bridgeNodeCommand(argv: string[]): Promise<number> {
  const ros = parseRosArgs(argv);
  const parsed = parseCommandArgs(ros.rest, { embedded: { type: 'boolean', default: false } });
  if (parsed.help) {
    console.log(NODE_USAGE);
    return 0;
  }
  const name = ros.nodeName ?? BRIDGE_NODE_NAME;
  const parameters = await parameterSources(ros, name);
  const transport = await createTransport(parsed.values.embedded ? 'embedded' : 'auto');
  const node = new BridgeNode({ node: createRemappedNode(transport, name, ros.remaps), parameters });
  return runUntilSignal(node, transport);
}
