// Every parameter of the bridge node, with type, default and range (ROS 2 declares them so).
// The node runtime checks each one; parseBridgeConfig then checks the combination with zod.
import type { NodeParamValues, ParamDecls } from '../nodes/runtime/params.ts';
import type { BridgeConfig } from './core/config.ts';
import { DEFAULT_CONFIG, parseBridgeConfig } from './core/config.ts';

export const BRIDGE_NODE_NAME = 'motor_bridge';

export const BRIDGE_PARAMS = {
  port: { type: 'string', default: '/dev/ttyACM0', description: 'serial device of the motor controller' },
  baud: { type: 'integer', default: 115200, min: 1200, max: 4_000_000, description: 'baud rate' },
  parity: { type: 'string', default: 'none', choices: ['none', 'even', 'odd'], description: 'parity' },
  wheel_base: {
    type: 'double',
    default: DEFAULT_CONFIG.wheelBase,
    min: 0.05,
    max: 2,
    description: 'm between wheels',
  },
  wheel_radius: {
    type: 'double',
    default: DEFAULT_CONFIG.wheelRadius,
    min: 0.005,
    max: 0.5,
    description: 'm',
  },
  max_wheel_speed: {
    type: 'double',
    default: DEFAULT_CONFIG.maxWheelSpeed,
    min: 0.1,
    max: 32.767,
    description: 'rad/s',
  },
  max_linear: { type: 'double', default: DEFAULT_CONFIG.maxLinear, min: 0.01, max: 10, description: 'm/s' },
  max_angular: {
    type: 'double',
    default: DEFAULT_CONFIG.maxAngular,
    min: 0.01,
    max: 20,
    description: 'rad/s',
  },
  invert_left: { type: 'bool', default: false, description: 'left motor wired backwards' },
  invert_right: { type: 'bool', default: false, description: 'right motor wired backwards' },
  command_rate_hz: {
    type: 'double',
    default: 50,
    min: 11,
    max: 200,
    description: 'wheel command refresh rate',
  },
  heartbeat_rate_hz: { type: 'double', default: 10, min: 7, max: 100, description: 'heartbeat rate' },
  cmd_vel_timeout_ms: { type: 'double', default: 500, min: 50, max: 5000, description: 'zero after this' },
  link_timeout_ms: { type: 'double', default: 300, min: 100, max: 5000, description: 'link lost after this' },
  reconnect_interval_ms: { type: 'double', default: 500, min: 50, max: 10000, description: 'reopen period' },
  cmd_vel_topic: { type: 'string', default: '/cmd_vel', description: 'geometry_msgs/Twist input' },
  odom_topic: { type: 'string', default: '/odom', description: 'nav_msgs/Odometry output' },
  battery_topic: {
    type: 'string',
    default: '/battery_state',
    description: 'sensor_msgs/BatteryState output',
  },
  diagnostics_topic: { type: 'string', default: '/diagnostics', description: 'diagnostics output' },
  odom_frame_id: { type: 'string', default: 'odom', description: 'odometry frame' },
  base_frame_id: { type: 'string', default: 'base_link', description: 'robot body frame' },
} as const satisfies ParamDecls;

export type BridgeParams = NodeParamValues<typeof BRIDGE_PARAMS>;

export function configFromParams(p: BridgeParams): BridgeConfig {
  return parseBridgeConfig({
    wheelBase: p.wheel_base,
    wheelRadius: p.wheel_radius,
    maxWheelSpeed: p.max_wheel_speed,
    maxLinear: p.max_linear,
    maxAngular: p.max_angular,
    invertLeft: p.invert_left,
    invertRight: p.invert_right,
    commandPeriodMs: 1000 / p.command_rate_hz,
    heartbeatPeriodMs: 1000 / p.heartbeat_rate_hz,
    minCommandIntervalMs: DEFAULT_CONFIG.minCommandIntervalMs,
    cmdVelTimeoutMs: p.cmd_vel_timeout_ms,
    linkTimeoutMs: p.link_timeout_ms,
    helloRetryMs: DEFAULT_CONFIG.helloRetryMs,
  });
}
