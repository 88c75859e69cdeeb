// Camera frames (ROS 2 sensor_msgs/Image and CompressedImage) to the model input an InputSpec
// describes. Pure apart from JPEG/PNG decoding, which sharp does.
export { createPreprocessor } from './preprocessor.ts';
export type { Preprocessor } from './preprocessor.ts';
export { FrameError } from './errors.ts';
export type { FrameErrorReason } from './errors.ts';
export { SUPPORTED_ENCODINGS } from './frame.ts';
export type { CompressedImageData, RawImage } from './frame.ts';
