// Every parameter of the telemetry node, with type, default and range, as a ROS 2 node declares them.
import type { ParamDecls } from '../../nodes/runtime/params.ts';
import { DEFAULT_BUFFER_LIMITS } from './buffer.ts';
import { DEFAULT_METRICS_PORT } from './metrics.ts';

export const TELEMETRY_NODE_NAME = 'fadnet_telemetry';

export const TELEMETRY_PARAMS = {
  fleet: {
    type: 'string',
    default: 'fadnet',
    description: 'the fleet this robot reports to (MQTT topic prefix)',
  },
  robot_id: {
    type: 'string',
    default: '',
    description: "this robot's id (required; the silo id where the robot is a silo)",
  },
  broker_url: {
    type: 'string',
    default: 'mqtt://127.0.0.1:1883',
    description: 'the MQTT broker telemetry and status go to',
  },
  diagnostics_topic: {
    type: 'string',
    default: '/diagnostics',
    description: 'diagnostic_msgs/DiagnosticArray of the steering node and the silo',
  },
  steering_topic: {
    type: 'string',
    default: '/fadnet/steering',
    description: 'raw steering value (std_msgs/Float32)',
  },
  battery_topic: {
    type: 'string',
    default: '/battery_state',
    description: 'sensor_msgs/BatteryState (the motor bridge publishes it); battery is null without it',
  },
  rate_hz: { type: 'double', default: 1.0, min: 0.05, max: 50, description: 'telemetry records per second' },
  metrics_port: {
    type: 'integer',
    default: DEFAULT_METRICS_PORT,
    min: 0,
    max: 65535,
    description: 'Prometheus endpoint port (GET /metrics); 0 picks a free one',
  },
  metrics_host: { type: 'string', default: '0.0.0.0', description: 'where the Prometheus endpoint listens' },
  buffer_max_records: {
    type: 'integer',
    default: DEFAULT_BUFFER_LIMITS.maxRecords,
    min: 1,
    max: 1_000_000,
    description: 'records kept while the broker is unreachable (oldest dropped first)',
  },
  buffer_max_bytes: {
    type: 'integer',
    default: DEFAULT_BUFFER_LIMITS.maxBytes,
    min: 1024,
    max: 1024 * 1024 * 1024,
    description: 'bytes kept while the broker is unreachable (oldest dropped first)',
  },
} as const satisfies ParamDecls;
