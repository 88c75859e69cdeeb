// Protocol version 1 messages (PROTOCOL.md): one discriminated union for both directions, with
// fixed payload lengths that the decoder checks exactly.

export const PROTOCOL_VERSION = 1;

export const MessageType = {
  hello: 0x01,
  wheelCmd: 0x02,
  heartbeat: 0x03,
  estop: 0x04,
  ack: 0x80,
  helloAck: 0x81,
  odometry: 0x82,
  battery: 0x83,
  status: 0x84,
} as const;

export const AckResult = { accepted: 0, notReady: 1, estopped: 2 } as const;
export type AckResultCode = (typeof AckResult)[keyof typeof AckResult];

export const McuState = { idle: 0, ready: 1, running: 2, failsafe: 3, estop: 4 } as const;
export const MCU_STATE_NAMES = ['idle', 'ready', 'running', 'failsafe', 'estop'] as const;

export const Fault = {
  failsafe: 1 << 0,
  estop: 1 << 1,
  rxOverflow: 1 << 2,
  batteryLow: 1 << 3,
  watchdogReset: 1 << 4,
  brownoutReset: 1 << 5,
} as const;

export type Message =
  | { readonly type: 'hello'; readonly nonce: number }
  | { readonly type: 'wheel-cmd'; readonly leftMradS: number; readonly rightMradS: number }
  | { readonly type: 'heartbeat'; readonly hostMs: number }
  | { readonly type: 'estop'; readonly reason: number }
  | { readonly type: 'ack'; readonly seq: number; readonly ackedType: number; readonly result: number }
  | {
      readonly type: 'hello-ack';
      readonly nonce: number;
      readonly firmwareMajor: number;
      readonly firmwareMinor: number;
      readonly ticksPerRev: number;
    }
  | {
      readonly type: 'odometry';
      readonly mcuMs: number;
      readonly leftTicks: number;
      readonly rightTicks: number;
    }
  | { readonly type: 'battery'; readonly millivolts: number }
  | {
      readonly type: 'status';
      readonly state: number;
      readonly faults: number;
      readonly rxCrcErrors: number;
      readonly rxFrames: number;
    };

export interface Frame {
  readonly seq: number;
  readonly message: Message;
}

/** Payload length per type code; a type not listed here is unknown. */
export const PAYLOAD_LENGTH: ReadonlyMap<number, number> = new Map([
  [MessageType.hello, 4],
  [MessageType.wheelCmd, 4],
  [MessageType.heartbeat, 4],
  [MessageType.estop, 1],
  [MessageType.ack, 3],
  [MessageType.helloAck, 8],
  [MessageType.odometry, 12],
  [MessageType.battery, 2],
  [MessageType.status, 7],
]);

export const MAX_PAYLOAD = 27;

/** Writes the payload at `view` offset `at`; returns the type code. Values must be in range. */
export function writePayload(message: Message, view: DataView, at: number): number {
  switch (message.type) {
    case 'hello':
      view.setUint32(at, message.nonce, true);
      return MessageType.hello;
    case 'wheel-cmd':
      view.setInt16(at, message.leftMradS, true);
      view.setInt16(at + 2, message.rightMradS, true);
      return MessageType.wheelCmd;
    case 'heartbeat':
      view.setUint32(at, message.hostMs, true);
      return MessageType.heartbeat;
    case 'estop':
      view.setUint8(at, message.reason);
      return MessageType.estop;
    case 'ack':
      view.setUint8(at, message.seq);
      view.setUint8(at + 1, message.ackedType);
      view.setUint8(at + 2, message.result);
      return MessageType.ack;
    case 'hello-ack':
      view.setUint32(at, message.nonce, true);
      view.setUint8(at + 4, message.firmwareMajor);
      view.setUint8(at + 5, message.firmwareMinor);
      view.setUint16(at + 6, message.ticksPerRev, true);
      return MessageType.helloAck;
    case 'odometry':
      view.setUint32(at, message.mcuMs, true);
      view.setInt32(at + 4, message.leftTicks, true);
      view.setInt32(at + 8, message.rightTicks, true);
      return MessageType.odometry;
    case 'battery':
      view.setUint16(at, message.millivolts, true);
      return MessageType.battery;
    case 'status':
      view.setUint8(at, message.state);
      view.setUint16(at + 1, message.faults, true);
      view.setUint16(at + 3, message.rxCrcErrors, true);
      view.setUint16(at + 5, message.rxFrames, true);
      return MessageType.status;
  }
}

/** Reads a payload whose type and exact length the caller has checked against PAYLOAD_LENGTH. */
export function readPayload(type: number, view: DataView, at: number): Message | undefined {
  switch (type) {
    case MessageType.hello:
      return { type: 'hello', nonce: view.getUint32(at, true) };
    case MessageType.wheelCmd:
      return {
        type: 'wheel-cmd',
        leftMradS: view.getInt16(at, true),
        rightMradS: view.getInt16(at + 2, true),
      };
    case MessageType.heartbeat:
      return { type: 'heartbeat', hostMs: view.getUint32(at, true) };
    case MessageType.estop:
      return { type: 'estop', reason: view.getUint8(at) };
    case MessageType.ack:
      return {
        type: 'ack',
        seq: view.getUint8(at),
        ackedType: view.getUint8(at + 1),
        result: view.getUint8(at + 2),
      };
    case MessageType.helloAck:
      return {
        type: 'hello-ack',
        nonce: view.getUint32(at, true),
        firmwareMajor: view.getUint8(at + 4),
        firmwareMinor: view.getUint8(at + 5),
        ticksPerRev: view.getUint16(at + 6, true),
      };
    case MessageType.odometry:
      return {
        type: 'odometry',
        mcuMs: view.getUint32(at, true),
        leftTicks: view.getInt32(at + 4, true),
        rightTicks: view.getInt32(at + 8, true),
      };
    case MessageType.battery:
      return { type: 'battery', millivolts: view.getUint16(at, true) };
    case MessageType.status:
      return {
        type: 'status',
        state: view.getUint8(at),
        faults: view.getUint16(at + 1, true),
        rxCrcErrors: view.getUint16(at + 3, true),
        rxFrames: view.getUint16(at + 5, true),
      };
    default:
      return undefined;
  }
}
