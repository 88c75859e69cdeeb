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
    default: 'mqtt://127.0.0.1:1883',
    description: 'the MQTT broker peers exchange weights through',
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
