export { crc16 } from './crc16.ts';
export { cobsDecode, cobsEncode } from './cobs.ts';
export { FrameDecoder, encodeFrame, MAX_ENCODED } from './frame.ts';
export type { DecodeResult, DecoderStats } from './frame.ts';
export {
  AckResult,
  Fault,
  MCU_STATE_NAMES,
  McuState,
  MessageType,
  PAYLOAD_LENGTH,
  PROTOCOL_VERSION,
} from './messages.ts';
export type { AckResultCode, Frame, Message } from './messages.ts';
