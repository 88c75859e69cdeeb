// ROS 2 message types the stack uses, with ROS field names and units (REP 103: metres,
// radians, seconds; x forward, z up). Plain data, identical on the embedded bus and in rclnodejs.

export interface Time {
  sec: number;
  nanosec: number;
}

export interface Header {
  stamp: Time;
  frame_id: string;
}

export interface Image {
  header: Header;
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  data: Uint8Array;
}

export interface CompressedImage {
  header: Header;
  format: string;
  data: Uint8Array;
}

export interface Vector3 {
  x: number;
  y: number;
  z: number;
}

export interface Twist {
  /** m/s */
  linear: Vector3;
  /** rad/s */
  angular: Vector3;
}

export interface TwistStamped {
  header: Header;
  twist: Twist;
}

export interface Float32 {
  data: number;
}

export interface Bool {
  data: boolean;
}

export interface KeyValue {
  key: string;
  value: string;
}

export const DiagnosticLevel = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;

export interface DiagnosticStatus {
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValue[];
}

export interface DiagnosticArray {
  header: Header;
  status: DiagnosticStatus[];
}

export interface Quaternion {
  x: number;
  y: number;
  z: number;
  w: number;
}

export interface Pose {
  position: Vector3;
  orientation: Quaternion;
}

export interface Odometry {
  header: Header;
  child_frame_id: string;
  pose: { pose: Pose; covariance: number[] };
  twist: { twist: Twist; covariance: number[] };
}

export interface BatteryState {
  header: Header;
  voltage: number;
  temperature: number;
  current: number;
  charge: number;
  capacity: number;
  design_capacity: number;
  percentage: number;
  power_supply_status: number;
  power_supply_health: number;
  power_supply_technology: number;
  present: boolean;
  cell_voltage: number[];
  cell_temperature: number[];
  location: string;
  serial_number: string;
}

/** rosgraph_msgs/Clock, what simulators publish on /clock (named so as not to shadow the runtime's Clock). */
export interface ClockMessage {
  clock: Time;
}

/** Type name -> message, the single place topic wiring is checked against. */
export interface MessageTypes {
  'sensor_msgs/msg/Image': Image;
  'sensor_msgs/msg/CompressedImage': CompressedImage;
  'sensor_msgs/msg/BatteryState': BatteryState;
  'geometry_msgs/msg/Twist': Twist;
  'geometry_msgs/msg/TwistStamped': TwistStamped;
  'std_msgs/msg/Float32': Float32;
  'std_msgs/msg/Bool': Bool;
  'diagnostic_msgs/msg/DiagnosticArray': DiagnosticArray;
  'nav_msgs/msg/Odometry': Odometry;
  'builtin_interfaces/msg/Time': Time;
  'rosgraph_msgs/msg/Clock': ClockMessage;
}

export type MessageTypeName = keyof MessageTypes;

export const MESSAGE_TYPE_NAMES: readonly MessageTypeName[] = [
  'sensor_msgs/msg/Image',
  'sensor_msgs/msg/CompressedImage',
  'sensor_msgs/msg/BatteryState',
  'geometry_msgs/msg/Twist',
  'geometry_msgs/msg/TwistStamped',
  'std_msgs/msg/Float32',
  'std_msgs/msg/Bool',
  'diagnostic_msgs/msg/DiagnosticArray',
  'nav_msgs/msg/Odometry',
  'builtin_interfaces/msg/Time',
  'rosgraph_msgs/msg/Clock',
];

export const zeroTwist = (): Twist => ({ linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } });

export function timeFromMs(ms: number): Time {
  const sec = Math.floor(ms / 1000);
  const nanosec = Math.round((ms - sec * 1000) * 1e6);
  // A remainder a hair under a second rounds up to 1e9 ns, which no valid Time holds: carry it.
  return nanosec >= 1e9 ? { sec: sec + 1, nanosec: nanosec - 1e9 } : { sec, nanosec };
}

export function timeToMs(t: Time): number {
  return t.sec * 1000 + t.nanosec / 1e6;
}
