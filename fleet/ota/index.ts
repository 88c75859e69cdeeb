// Public surface of over-the-air model updates (README.md here). Pure cores: release.ts (schema,
// signature, upgrade rule), bundle.ts, probation.ts, version.ts, status.ts, topics.ts. Adapters:
// the store on disk, validation on ONNX Runtime, the MQTT link and publisher, the agent node.
export { OtaAgent } from './agent.ts';
export type { OtaAgentOptions, OtaLink, PausePoint } from './agent.ts';
export { decodeBundle, encodeBundle, GOLDEN_FILE } from './bundle.ts';
export type { BundleFile } from './bundle.ts';
export {
  ArtifactHashError,
  BundleFormatError,
  ChunkHashError,
  DowngradeError,
  GoldenMismatchError,
  LatencyBudgetError,
  ModelLoadError,
  REJECT_KINDS,
  ReleaseFormatError,
  ReleaseRejectedError,
  SignatureError,
  StoreError,
  UnknownSignerError,
  WrongFleetError,
} from './errors.ts';
export type { RejectKind } from './errors.ts';
export { MqttOtaLink, MqttOtaPublisher } from './mqtt-link.ts';
export type { MqttOtaOptions } from './mqtt-link.ts';
export { OTA_NODE_NAME, OTA_PARAMS } from './params.ts';
export { judgeProbation, MIN_FRAMES_FOR_JITTER, ROLLBACK_KINDS } from './probation.ts';
export type { ProbationCriteria, ProbationVerdict, RollbackKind } from './probation.ts';
export {
  buildRelease,
  bundlePackage,
  finishRelease,
  goldenOutputs,
  makeGoldenFrames,
  publishRelease,
  readPackageFiles,
  releaseFields,
} from './publish.ts';
export type { BuiltRelease, PackageFiles, PublishResult, ReleaseOptions } from './publish.ts';
export {
  checkRelease,
  describeArtifact,
  releaseSigningBytes,
  ReleaseSchema,
  signRelease,
  splitArtifact,
  UnsignedReleaseSchema,
  upgradeVerdict,
} from './release.ts';
export type { Release, UnsignedRelease, UpgradeVerdict } from './release.ts';
export { OTA_STATES, OtaStatusSchema } from './status.ts';
export type { OtaReasonKind, OtaState, OtaStatus } from './status.ts';
export { ContentsSchema, ModelStore } from './store.ts';
export type { Contents, ModelStoreOptions, RejectedRelease, Staging } from './store.ts';
export {
  artifactChunkFilter,
  artifactChunkTopic,
  releaseTopic,
  statusFilter,
  statusTopic,
} from './topics.ts';
export { goldenFrames, validateModel } from './validate.ts';
export type { ValidationOptions, ValidationResult } from './validate.ts';
export { compareVersions } from './version.ts';
