// The live view: the embedded bus's topics served to the Foxglove app over the Foxglove
// WebSocket protocol.
export { LiveView, LiveViewListenError } from './live-view.ts';
export type { LiveViewOptions, LiveViewStats } from './live-view.ts';
export { channelSchema, schemaOf } from './schemas.ts';
export type { ChannelSchema, JsonSchema } from './schemas.ts';
export { encodeMessage, messageTime } from './encode.ts';
export type { Encoded } from './encode.ts';
