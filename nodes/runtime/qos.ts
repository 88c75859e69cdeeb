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
