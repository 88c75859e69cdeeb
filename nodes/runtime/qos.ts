// QoS as ROS conventions have it: sensor data best-effort keep-last-1 (a late frame is worse
// than none), commands reliable (a lost stop is dangerous).

export interface QoS {
  readonly reliability: 'reliable' | 'best_effort';
  readonly history: 'keep_last';
  readonly depth: number;
  readonly durability: 'volatile' | 'transient_local';
}

export const QOS_SENSOR_DATA: QoS = {
  reliability: 'best_effort',
  history: 'keep_last',
  depth: 1,
  durability: 'volatile',
};
export const QOS_COMMANDS: QoS = {
  reliability: 'reliable',
  history: 'keep_last',
  depth: 10,
  durability: 'volatile',
};
export const QOS_STATUS: QoS = {
  reliability: 'reliable',
  history: 'keep_last',
  depth: 10,
  durability: 'volatile',
};
/** Latched state such as the enable flag: late joiners get the last value. */
export const QOS_LATCHED: QoS = {
  reliability: 'reliable',
  history: 'keep_last',
  depth: 1,
  durability: 'transient_local',
};
/**
 * Subscribing to /clock, as rclcpp's ClockQoS: best effort keep-last-1. Only the newest time
 * matters, a subscriber that falls behind must jump to it rather than replay old times, and a
 * slow node must never hold the simulator back. Matches a reliable or a best-effort publisher.
 */
export const QOS_CLOCK: QoS = {
  reliability: 'best_effort',
  history: 'keep_last',
  depth: 1,
  durability: 'volatile',
};
/**
 * Publishing /clock: reliable keep-last-1. A reliable publisher matches both best-effort
 * subscribers (rclcpp's ClockQoS) and reliable ones (rclnodejs's TimeSource subscribes with the
 * default profile), as Gazebo's bridge does; a best-effort one would leave the latter without time.
 */
export const QOS_CLOCK_PUBLISHER: QoS = {
  reliability: 'reliable',
  history: 'keep_last',
  depth: 1,
  durability: 'volatile',
};
