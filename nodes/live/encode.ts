// ROS messages to the JSON payloads the live view sends. Pure: the caller supplies the time
// to fall back on, so this runs the same against any clock.
import type { CompressedImage, Header, Image, MessageTypeName, Time } from '../runtime/index.ts';

export interface Encoded {
  /** Nanoseconds since the epoch (or the clock's origin): the Foxglove message log time. */
  readonly timestamp: bigint;
  readonly payload: Uint8Array;
}

const NS_PER_MS = 1_000_000n;

/** Milliseconds (fractional, possibly 1.7e12) to nanoseconds without losing precision to doubles. */
export function msToNs(ms: number): bigint {
  if (!(ms > 0)) return 0n;
  const whole = Math.floor(ms);
  return BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6));
}

function timeToNs(t: Time): bigint {
  return BigInt(Math.max(0, Math.trunc(t.sec))) * 1_000_000_000n + BigInt(Math.max(0, Math.trunc(t.nanosec)));
}

function hasStamp(message: unknown): message is { header: Header } {
  if (typeof message !== 'object' || message === null || !('header' in message)) return false;
  const header: unknown = message.header;
  if (typeof header !== 'object' || header === null || !('stamp' in header)) return false;
  const stamp: unknown = header.stamp;
  return (
    typeof stamp === 'object' &&
    stamp !== null &&
    'sec' in stamp &&
    'nanosec' in stamp &&
    typeof stamp.sec === 'number' &&
    typeof stamp.nanosec === 'number'
  );
}

/**
 * The header stamp when the message carries a set one; an all-zero stamp means "not stamped"
 * in ROS, and plotting it at 1970 would push it off every timeline, so it falls back too.
 */
export function messageTime(message: unknown, nowMs: number): bigint {
  if (hasStamp(message)) {
    const ns = timeToNs(message.header.stamp);
    if (ns > 0n) return ns;
  }
  return msToNs(nowMs);
}

export function base64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

// JSON has no bytes and no bigint: bytes go out as base64 (as the schemas say), bigints as
// numbers when exact and as decimal strings when not, instead of JSON.stringify throwing.
function replacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return base64(value);
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  return value;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

function foxgloveTime(ns: bigint): { sec: number; nsec: number } {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/**
 * Encodes one bus message for its channel (see channelSchema for the matching schema). The
 * message is trusted to match `type`: the bus checked that when the publisher was created.
 */
export function encodeMessage(type: MessageTypeName, message: unknown, nowMs: number): Encoded {
  const timestamp = messageTime(message, nowMs);
  let json: string;
  switch (type) {
    case 'sensor_msgs/msg/Image': {
      const m = message as Image;
      json = toJson({
        timestamp: foxgloveTime(timestamp),
        frame_id: m.header.frame_id,
        width: m.width,
        height: m.height,
        encoding: m.encoding,
        step: m.step,
        data: m.data,
      });
      break;
    }
    case 'sensor_msgs/msg/CompressedImage': {
      const m = message as CompressedImage;
      json = toJson({
        timestamp: foxgloveTime(timestamp),
        frame_id: m.header.frame_id,
        format: m.format,
        data: m.data,
      });
      break;
    }
    default:
      json = toJson(message);
  }
  return { timestamp, payload: Buffer.from(json, 'utf8') };
}
