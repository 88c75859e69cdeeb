// The `fadnet` command line: each subcommand lives with its concern and is loaded on demand,
// so `fadnet topology` never pays for loading TensorFlow.js or ONNX Runtime.
import { z } from 'zod';
import { UsageError, wantsHelp } from '../common/index.ts';

export type Command = (args: string[]) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  /** The flags, for `--help` of a command that does not print its own usage. */
  readonly flags?: string;
  readonly load: () => Promise<Command>;
}

const benches: Record<string, CommandEntry> = {
  exchange: {
    summary: 'one FADNet update per encoding through the MQTT weight exchange (ms, bytes)',
    flags: '[--broker URL] [--runs N] [--json]',
    load: async () => (await import('../fleet/exchange/bench.ts')).benchExchangeCommand,
  },
  inference: {
    summary: '640x480 rgb8 frames through preprocessing and the ONNX model (p50/p99, fps)',
    flags: '[--frames N] [--threads N] [--rate HZ] [--weights FILE] [--json]',
    load: async () => (await import('../models/bench/inference.ts')).benchInferenceCommand,
  },
  precision: {
    summary: 'steering RMSE per precision and calibration method on the held-out simulator world',
    load: async () => (await import('../models/bench/precision.ts')).benchPrecisionCommand,
  },
  preprocess: {
    summary: 'camera frame preprocessing per encoding (p50/p99 ms)',
    flags: '[--frames N] [--json]',
    load: async () => (await import('../models/bench/preprocess.ts')).benchPreprocessCommand,
  },
  nodes: {
    summary: 'frame published -> steering node -> Twist received, at 30 Hz and at maximum rate',
    flags: '[--seconds S] [--json]',
    load: async () => (await import('../nodes/bench.ts')).benchNodesCommand,
  },
  'silo-steering': {
    summary: 'steering node p50/p99 at 30 Hz, idle and with a fleet silo training beside it',
    flags: '[--seconds S] [--nice N] [--batch B] [--json]',
    load: async () => (await import('../fleet/silo/bench.ts')).benchSiloSteeringCommand,
  },
  sim: {
    summary: 'simulation step (render + physics) per frame',
    flags: '[--world NAME] [--steps N] [--no-randomisation] [--json]',
    load: async () => (await import('../sim/bench.ts')).benchSimCommand,
  },
  telemetry: {
    summary: 'N simulated robots at 1 Hz on one broker: broker-to-dashboard delay p50/p99, dashboard memory',
    flags: '[--robots N] [--seconds S] [--broker URL] [--sample-every S] [--json]',
    load: async () => (await import('../fleet/dashboard/bench.ts')).benchTelemetryCommand,
  },
  train: {
    summary: 'median ms per training step (batch 32, 200x200) on the default backend',
    flags: '[--steps N] [--batch N] [--replicas N] [--json]',
    load: async () => (await import('../models/bench/train.ts')).benchTrainCommand,
  },
};

const commands: Record<string, CommandEntry> = {
  start: {
    summary: 'the main job: run the demo on embedded defaults',
    load: async () => (await import('./start.ts')).startCommand,
  },
  infer: {
    summary: 'run FADNet on an N x 1 x 200 x 200 float32 tensor file',
    load: async () => (await import('../models/cli/infer.ts')).inferCommand,
  },
  export: {
    summary: 'export a safetensors weight set to ONNX with its manifest',
    load: async () => (await import('../models/cli/export.ts')).exportCommand,
  },
  quantize: {
    summary: 'the int8 (QDQ) package of a model, calibrated on simulator or recorded frames',
    load: async () => (await import('../models/cli/quantize.ts')).quantizeCommand,
  },
  train: {
    summary: 'train FADNet locally on a dataset (checkpointed, resumable)',
    load: async () => (await import('../models/cli/train.ts')).trainCommand,
  },
  node: {
    summary: 'run a ROS 2 node: steering (accepts --ros-args as ros2 launch passes them)',
    load: async () => nodeCommand,
  },
  sim: {
    summary: 'closed-loop driving in the simulator (default: held-out world, shipped model, 3 laps)',
    load: async () => (await import('../sim/loop/cli.ts')).simCommand,
  },
  record: {
    summary: 'record live topics to MCAP as ros2 bag does',
    load: async () => (await import('../nodes/record/main.ts')).recordCommand,
  },
  silo: {
    summary: 'one robot of a fleet: train on its own data, mix weights with its peers over MQTT',
    load: async () => {
      const [{ siloCommand }, { simWorldDataset }] = await Promise.all([
        import('../fleet/silo/cli.ts'),
        import('./silo-sim.ts'),
      ]);
      return (args) => siloCommand(args, { simWorld: simWorldDataset });
    },
  },
  fleet: {
    summary:
      "fleet sim: N silo processes on this machine; fleet keygen: a silo's signing key; fleet status: the robots' table; fleet dashboard: the fleet's web page",
    load: async () => async (args) => {
      // keygen needs neither the simulator nor TF.js: dispatched before loading them.
      if (args[0] === 'keygen')
        return (await import('../fleet/exchange/cli.ts')).keygenCommand(args.slice(1));
      if (args[0] === 'status')
        return (await import('../fleet/dashboard/cli.ts')).fleetStatusCommand(args.slice(1));
      if (args[0] === 'dashboard')
        return (await import('../fleet/dashboard/cli.ts')).fleetDashboardCommand(args.slice(1));
      const [{ fleetCommand }, { fleetSimSources }] = await Promise.all([
        import('../fleet/sim/cli.ts'),
        import('./fleet-sim.ts'),
      ]);
      const sources = await fleetSimSources();
      return fleetCommand(args, sources);
    },
  },
  ota: {
    summary: 'over-the-air model updates: ota publish (a signed release), status, rollback, drill',
    load: async () => {
      const { otaCommand } = await import('../fleet/ota/cli.ts');
      return (args) => otaCommand(args, async () => (await import('./ota-drill.ts')).otaDrillCommand);
    },
  },
  topology: {
    summary: 'plan overlays and the multigraph schedule, print cycle times',
    load: async () => (await import('../fleet/topology/cli.ts')).topologyCommand,
  },
  bridge: {
    summary: 'run the motor-controller bridge on a serial port (--port PATH --baud N), or --bench',
    load: async () => (await import('../firmware-bridge/cli.ts')).bridgeCommand,
  },
  bench: {
    summary: `benchmarks: ${Object.keys(benches).join(', ')}`,
    load: async () => benchCommand,
  },
};

const nodes: Record<string, CommandEntry> = {
  steering: {
    summary: 'camera frames -> FADNet -> /cmd_vel, with the deadline watchdog',
    load: async () => (await import('../nodes/steering/main.ts')).steeringNodeCommand,
  },
  bridge: {
    summary: '/cmd_vel -> motor controller over the serial protocol, odometry and battery back',
    load: async () => (await import('../firmware-bridge/cli.ts')).bridgeNodeCommand,
  },
  silo: {
    summary: 'fleet learning beside steering: a low-priority silo training on recordings',
    load: async () => (await import('../fleet/silo/node.ts')).siloNodeCommand,
  },
  ota: {
    summary: 'the update agent: fetches, verifies, validates and activates model releases, rolls back',
    load: async () => (await import('../fleet/ota/node.ts')).otaNodeCommand,
  },
  telemetry: {
    summary: "fleet telemetry: the nodes' figures at 1 Hz over MQTT and on a Prometheus endpoint",
    load: async () => (await import('../fleet/telemetry/node.ts')).telemetryNodeCommand,
  },
};

/** Node names `fadnet node` runs (the ROS 2 package's executables map onto these). */
export const NODE_NAMES: readonly string[] = Object.keys(nodes);

async function nodeCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const entry = name === undefined ? undefined : nodes[name];
  if (entry === undefined) {
    const text = usage(
      'fadnet node <name> [--ros-args -p name:=value --params-file FILE -r from:=to]',
      nodes,
    );
    return listing(name, text, 'node');
  }
  return (await entry.load())(rest);
}

async function benchCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const entry = name === undefined ? undefined : benches[name];
  if (entry === undefined) return listing(name, usage('fadnet bench <name> [--json]', benches), 'benchmark');
  if (wantsHelp(rest)) {
    // Benchmarks parse only what they measure; their usage lives in this table.
    console.log(`usage: fadnet bench ${name} ${entry.flags ?? '[--json]'}\n\n  ${entry.summary}`);
    return 0;
  }
  return (await entry.load())(rest);
}

/** A command group's table: asked for with --help (exit 0), else a mistake (exit 2). */
function listing(name: string | undefined, text: string, what: string): number {
  if (name !== undefined && wantsHelp([name])) {
    console.log(text);
    return 0;
  }
  console.error(name === undefined ? text : `fadnet: unknown ${what} "${name}"\n\n${text}`);
  return 2;
}

function usage(head: string, table: Record<string, CommandEntry>): string {
  const width = Math.max(...Object.keys(table).map((k) => k.length));
  const lines = Object.entries(table).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`);
  return [`usage: ${head}`, '', ...lines].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage('fadnet <command> [options]', commands));
    return name === undefined ? 2 : 0;
  }
  const entry = commands[name];
  if (entry === undefined) {
    console.error(`fadnet: unknown command "${name}"\n\n${usage('fadnet <command> [options]', commands)}`);
    return 2;
  }
  try {
    return await (
      await entry.load()
    )(rest);
  } catch (error) {
    const label = name === 'node' || name === 'bench' || name === 'ota' ? [name, rest[0]].join(' ') : name;
    if (error instanceof UsageError) {
      // One line naming the flag and the value; the usage is one --help away.
      console.error(`fadnet ${label}: ${error.message} (fadnet ${label} --help shows the usage)`);
      return 2;
    }
    // Errors reaching here are bad input or a failed dependency: print the message with its
    // cause chain, not a stack, and exit non-zero.
    console.error(`fadnet ${label}: ${describeError(error)}`);
    return 1;
  }
}

export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof z.ZodError) {
      // A schema error's own message is a JSON dump of its issues. Under a wrapper that already
      // said what was wrong it adds nothing; bare, it reads as one line per issue.
      if (parts.length === 0) parts.push(z.prettifyError(current).replace(/\n\s*→ at /g, ' at '));
      current = undefined;
    } else if (current instanceof Error) {
      // Wrappers often quote their cause already; print each message once.
      if (!parts.some((p) => p.includes(current instanceof Error ? current.message : '')))
        parts.push(current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join(': caused by: ');
}
