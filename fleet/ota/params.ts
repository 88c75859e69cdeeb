// Every parameter of the OTA agent node, with type, default and range, as a ROS 2 node declares them.
import { EXECUTION_PROVIDERS } from '../../models/src/engine/engine.ts';
import type { ParamDecls } from '../../nodes/runtime/params.ts';

export const OTA_NODE_NAME = 'fadnet_ota';

export const OTA_PARAMS = {
  fleet: { type: 'string', default: 'fadnet', description: 'the fleet whose releases this robot takes' },
  robot_id: {
    type: 'string',
    default: '',
    description:
      "this robot's id in the fleet (required): its status topic fleet/<fleet>/ota/status/<robot_id>",
  },
  broker_url: { type: 'string', default: 'mqtt://127.0.0.1:1883', description: "the fleet's MQTT broker" },
  model_store: {
    type: 'string',
    default: 'ota-store',
    description: 'the model store on disk (the steering node follows its active.json)',
  },
  model_manifest: {
    type: 'string',
    default: 'models/shipped/fadnet-sim.manifest.json',
    description: 'the factory model, installed when the store has none yet',
  },
  trusted_keys: {
    type: 'string',
    default: 'fleet-state/trusted.json',
    description: 'trusted-keys file (fadnet fleet keygen --trusted): who may sign a release',
  },
  execution_providers: {
    type: 'string_array',
    default: ['cpu'],
    choices: EXECUTION_PROVIDERS,
    minItems: 1,
    description: "the robot's ONNX Runtime providers, in the steering node's order: validation runs on them",
  },
  intra_op_threads: {
    type: 'integer',
    default: 1,
    min: 1,
    max: 64,
    description: 'ONNX Runtime intra-op threads',
  },
  chunk_interval_ms: {
    type: 'double',
    default: 0,
    min: 0,
    max: 60_000,
    description: 'pause after each chunk written, to leave disk and CPU to driving',
  },
  probation_poll_ms: {
    type: 'double',
    default: 250,
    min: 10,
    max: 60_000,
    description: "how often the steering node's health file is read in probation",
  },
  load_grace_s: {
    type: 'double',
    default: 30,
    min: 1,
    max: 3600,
    description: 'time the steering node has to serve a new model before probation fails',
  },
  diagnostics_topic: {
    type: 'string',
    default: '/diagnostics',
    description: 'OTA state as diagnostic_msgs/DiagnosticArray',
  },
} as const satisfies ParamDecls;
