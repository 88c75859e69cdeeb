// Public surface of the fleet's weight exchange. Pure cores (codec, envelope, reassembly, gates,
// receiver) have no I/O; MqttExchange, the embedded broker and the key files are the adapters.

export type { Encoding, ModelUpdate, PeerExchange, Rejection } from './types.ts';
export { brokerFor, DEFAULT_EMBEDDED_LISTEN, startEmbeddedBroker } from './broker.ts';
export type { EmbeddedBroker, EmbeddedBrokerOptions, FleetBroker } from './broker.ts';
export {
  decodeTensors,
  decodeWeights,
  encodeTensors,
  encodeWeights,
  ENCODINGS,
  SMALL_TENSOR_VALUES,
} from './codec.ts';
export type { NamedTensor, StoredAs } from './codec.ts';
export {
  chunkUpdate,
  encodeChunk,
  envelopeOf,
  parseChunk,
  sha256Hex,
  signEnvelope,
  signingBytes,
  verifyEnvelope,
} from './envelope.ts';
export type { ChunkHeader, ChunkOptions, Envelope, ParsedChunk } from './envelope.ts';
export {
  BrokerConnectError,
  ExchangeConfigError,
  PayloadFormatError,
  PublishError,
  TrustedKeysError,
} from './errors.ts';
export { DEFAULT_NORM_GATE, NormTracker, ReplayGuard, weightNorm } from './gates.ts';
export type { NormGateOptions, ReplayVerdict } from './gates.ts';
export { ModelInbox, systemClock } from './inbox.ts';
export type { Cancel, ExchangeClock } from './inbox.ts';
export { addTrustedKey, readSiloKeyFile, readTrustedKeysFile, writeSiloKeys } from './key-files.ts';
export type { WrittenKeys } from './key-files.ts';
export {
  generateSiloKeys,
  parseSiloKey,
  parseTrustedKeys,
  publicKeyPem,
  trustedKeysFrom,
  trustedKeysSchema,
} from './keys.ts';
export type { SiloKeys, TrustedKeys, TrustedKeysFile } from './keys.ts';
export { connect, MqttExchange, presenceSchema } from './mqtt-exchange.ts';
export type { ConnectOptions, ExchangeStats, Presence } from './mqtt-exchange.ts';
export { DEFAULT_REASSEMBLY_LIMITS, Reassembler } from './reassembly.ts';
export type { AddResult, Dropped, ReassemblyLimits } from './reassembly.ts';
export { UpdateReceiver } from './receiver.ts';
export type { ReceiveEvent, ReceiverOptions } from './receiver.ts';
export { chunkTopic, presenceTopic } from './topics.ts';
