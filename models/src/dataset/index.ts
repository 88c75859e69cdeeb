// Recorded MCAP files as training and evaluation data: (frame, steering) samples with a
// seeded, stable train/test split, read in bounded memory and preprocessed per the manifest.
export { McapDataset, DEFAULT_FRAME_TOPIC, DEFAULT_LABEL_TOPIC } from './mcap-dataset.ts';
export type { DatasetStats, McapDatasetOptions, Sample } from './mcap-dataset.ts';
export type { CacheStats } from './frame-cache.ts';
export { DatasetFileError, DatasetMessageError } from './errors.ts';
export type { SkipReason } from './errors.ts';
export { inTestSplit, splitValue } from './split.ts';
export { pairNearest } from './pairing.ts';
