// Every parameter of the silo node, with type, default and range, as a ROS 2 node declares them.
import type { ParamDecls } from '../../nodes/runtime/params.ts';
import { ENCODINGS } from '../exchange/index.ts';
import { MIX_RULE_NAMES } from './mixing.ts';

export const SILO_NODE_NAME = 'fadnet_silo';

/** Lowest priority by default: on a robot, training is the thing that can wait. */
export const DEFAULT_NICE = 19;

export const SILO_PARAMS = {
  fleet: {
    type: 'string',
    default: 'fadnet',
    description: 'the fleet this robot trains with (MQTT topic prefix)',
  },
  silo_id: {
    type: 'string',
    default: '',
    description: "this robot's silo id (required; listed in the plan)",
  },
  data_dir: {
    type: 'string',
    default: 'recordings',
    description: 'folder of MCAP recordings the silo trains on',
  },
  broker_url: {
    type: 'string',
    default: '',
    description:
      'the MQTT broker peers exchange weights through; empty: host an embedded one on embedded_broker_host:embedded_broker_port (or use the one there)',
  },
  embedded_broker_host: {
    type: 'string',
    default: '127.0.0.1',
    description: 'where the embedded broker listens (0.0.0.0 lets robots on the network join)',
  },
  embedded_broker_port: {
    type: 'integer',
    default: 1883,
    min: 1,
    max: 65535,
    description: 'the embedded broker port',
  },
  live_plan: {
    type: 'bool',
    default: false,
    description: 'follow the plan the fleet computes from its measured links (agreed switch rounds)',
  },
  live_plan_probe_ms: {
    type: 'double',
    default: 1000,
    min: 50,
    max: 3_600_000,
    description: 'time between link probes of every peer',
  },
  live_plan_margin_rounds: {
    type: 'integer',
    default: 3,
    min: 1,
    max: 1000,
    description: 'rounds between proposing a plan and its activation',
  },
  plan_file: {
    type: 'string',
    default: '',
    description: 'fleet plan (fadnet-edge/fleet-plan@1); empty: a ring over `silos`',
  },
  silos: {
    type: 'string_array',
    default: [],
    description: "the fleet's silo ids when there is no plan file",
  },
  state_dir: {
    type: 'string',
    default: 'fleet-state',
    description: 'holds <silo_id>.key, trusted.json and the checkpoint',
  },
  local_steps: {
    type: 'integer',
    default: 1,
    min: 1,
    max: 10_000,
    description: 'local training steps per round (u)',
  },
  batch_size: { type: 'integer', default: 32, min: 1, max: 1024, description: 'training batch' },
  learning_rate: { type: 'double', default: 1e-3, min: 1e-7, max: 1, description: 'Adam base learning rate' },
  peer_timeout_ms: {
    type: 'double',
    default: 30_000,
    min: 0,
    max: 3_600_000,
    description: 'wait for a peer model before mixing without it',
  },
  mixing: {
    type: 'string',
    default: 'mean',
    choices: [...MIX_RULE_NAMES],
    description: 'mean (planned weights), median or trimmed-mean',
  },
  trim: {
    type: 'double',
    default: 0.2,
    min: 0,
    max: 0.49,
    description: 'share trimmed at each end by trimmed-mean',
  },
  encoding: {
    type: 'string',
    default: 'f16',
    choices: [...ENCODINGS],
    description: "how this silo's weights travel",
  },
  nice: {
    type: 'integer',
    default: DEFAULT_NICE,
    min: 0,
    max: 19,
    description: 'CPU niceness of the training process (19: lowest priority)',
  },
  status_topic: {
    type: 'string',
    default: '/diagnostics',
    description: 'diagnostic_msgs/DiagnosticArray after each round',
  },
} as const satisfies ParamDecls;
