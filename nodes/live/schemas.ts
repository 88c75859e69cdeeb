// JSON Schemas for the channels the live view advertises. Camera frames use Foxglove's own
// RawImage/CompressedImage schemas, because the Image panel recognises those by name; every
// other ROS type is sent as its own JSON and described by a schema derived from a prototype
// message. The prototypes are typed against MessageTypes, so adding a message type to the
// runtime fails to compile here until the live view knows its shape.
import type { MessageTypeName, MessageTypes } from '../runtime/index.ts';

export type JsonSchema = { readonly [key: string]: unknown };

const time = { sec: 0, nanosec: 0 };
const header = () => ({ stamp: { ...time }, frame_id: '' });
const vector3 = () => ({ x: 0, y: 0, z: 0 });
const twist = () => ({ linear: vector3(), angular: vector3() });

// Arrays carry one element so the schema can describe their items; the values are never sent.
const PROTOTYPES: { readonly [K in MessageTypeName]: MessageTypes[K] } = {
  'sensor_msgs/msg/Image': {
    header: header(),
    height: 0,
    width: 0,
    encoding: '',
    is_bigendian: 0,
    step: 0,
    data: new Uint8Array(),
  },
  'sensor_msgs/msg/CompressedImage': { header: header(), format: '', data: new Uint8Array() },
  'sensor_msgs/msg/BatteryState': {
    header: header(),
    voltage: 0,
    temperature: 0,
    current: 0,
    charge: 0,
    capacity: 0,
    design_capacity: 0,
    percentage: 0,
    power_supply_status: 0,
    power_supply_health: 0,
    power_supply_technology: 0,
    present: false,
    cell_voltage: [0],
    cell_temperature: [0],
    location: '',
    serial_number: '',
  },
  'geometry_msgs/msg/Twist': twist(),
  'geometry_msgs/msg/TwistStamped': { header: header(), twist: twist() },
  'std_msgs/msg/Float32': { data: 0 },
  'std_msgs/msg/Bool': { data: false },
  'diagnostic_msgs/msg/DiagnosticArray': {
    header: header(),
    status: [{ level: 0, name: '', message: '', hardware_id: '', values: [{ key: '', value: '' }] }],
  },
  'nav_msgs/msg/Odometry': {
    header: header(),
    child_frame_id: '',
    pose: { pose: { position: vector3(), orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: [0] },
    twist: { twist: twist(), covariance: [0] },
  },
  'builtin_interfaces/msg/Time': { ...time },
  'rosgraph_msgs/msg/Clock': { clock: { ...time } },
};

/** Describes a value's shape; byte arrays become base64 strings as `toJsonValue` writes them. */
export function schemaOf(value: unknown): JsonSchema {
  if (ArrayBuffer.isView(value)) return { type: 'string', contentEncoding: 'base64' };
  if (Array.isArray(value)) return { type: 'array', items: value.length > 0 ? schemaOf(value[0]) : {} };
  switch (typeof value) {
    case 'number':
      return { type: 'number' };
    case 'bigint':
      return { type: ['integer', 'string'] };
    case 'string':
      return { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'object': {
      if (value === null) return { type: 'null' };
      const properties: Record<string, JsonSchema> = {};
      for (const [key, field] of Object.entries(value)) properties[key] = schemaOf(field);
      return { type: 'object', properties };
    }
    default:
      return {};
  }
}

const foxgloveTime: JsonSchema = {
  type: 'object',
  title: 'time',
  properties: {
    sec: { type: 'integer', minimum: 0 },
    nsec: { type: 'integer', minimum: 0, maximum: 999_999_999 },
  },
};

const rawImage: JsonSchema = {
  title: 'foxglove.RawImage',
  description: 'A raw image',
  type: 'object',
  properties: {
    timestamp: foxgloveTime,
    frame_id: { type: 'string' },
    width: { type: 'integer', minimum: 0 },
    height: { type: 'integer', minimum: 0 },
    encoding: { type: 'string' },
    step: { type: 'integer', minimum: 0 },
    data: { type: 'string', contentEncoding: 'base64' },
  },
};

const compressedImage: JsonSchema = {
  title: 'foxglove.CompressedImage',
  description: 'A compressed image',
  type: 'object',
  properties: {
    timestamp: foxgloveTime,
    frame_id: { type: 'string' },
    data: { type: 'string', contentEncoding: 'base64' },
    format: { type: 'string' },
  },
};

export interface ChannelSchema {
  readonly schemaName: string;
  readonly schema: string;
}

/** The schema name and JSON Schema text a channel of this ROS type is advertised with. */
export function channelSchema(type: MessageTypeName): ChannelSchema {
  switch (type) {
    case 'sensor_msgs/msg/Image':
      return { schemaName: 'foxglove.RawImage', schema: JSON.stringify(rawImage) };
    case 'sensor_msgs/msg/CompressedImage':
      return { schemaName: 'foxglove.CompressedImage', schema: JSON.stringify(compressedImage) };
    default:
      return { schemaName: type, schema: JSON.stringify({ title: type, ...schemaOf(PROTOTYPES[type]) }) };
  }
}
