// Recording to MCAP as rosbag2 does: a file recorder, a recorder that taps the embedded bus,
// and the ROS 2 message definitions stored as schemas.
export { McapRecorder, DEFAULT_CHUNK_BYTES, nsFromMs } from './mcap-recorder.ts';
export type { McapRecorderOptions, RecordedTopic, RecordingSummary, TopicCount } from './mcap-recorder.ts';
export { BusRecorder } from './bus-recorder.ts';
export type { BusRecorderOptions, BusRecordingSummary } from './bus-recorder.ts';
export { ros2msgDefinition } from './definitions.ts';
export { RecordingError, SerializationError } from './errors.ts';
