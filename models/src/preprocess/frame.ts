import { FrameError } from './errors.ts';

/** The fields of ROS 2 `sensor_msgs/Image` that preprocessing reads, under their ROS names. */
export interface RawImage {
  readonly height: number;
  readonly width: number;
  readonly encoding: string;
  /** ROS `uint8`: non-zero when multi-byte samples (mono16) are big-endian. */
  readonly is_bigendian: number;
  /** Bytes from the start of one row to the next; may exceed width * bytes per pixel. */
  readonly step: number;
  readonly data: Uint8Array;
}

/** The fields of ROS 2 `sensor_msgs/CompressedImage` that preprocessing reads. */
export interface CompressedImageData {
  /** As image_transport publishes it: "jpeg", "png", "rgb8; jpeg compressed bgr8", ... */
  readonly format: string;
  readonly data: Uint8Array;
}

/** Pixel layouts after resolving ROS aliases (`yuv422` is UYVY, `yuv422_yuy2` is YUYV). */
export type PixelLayout = 'rgb8' | 'bgr8' | 'rgba8' | 'bgra8' | 'mono8' | 'mono16' | 'uyvy' | 'yuyv';

const LAYOUT_BY_ENCODING: ReadonlyMap<string, PixelLayout> = new Map<string, PixelLayout>([
  ['rgb8', 'rgb8'],
  ['bgr8', 'bgr8'],
  ['rgba8', 'rgba8'],
  ['bgra8', 'bgra8'],
  ['mono8', 'mono8'],
  ['mono16', 'mono16'],
  ['yuv422', 'uyvy'],
  // Newer sensor_msgs releases name the same byte orders explicitly.
  ['uyvy', 'uyvy'],
  ['yuv422_yuy2', 'yuyv'],
  ['yuyv', 'yuyv'],
]);

/** The ROS encoding strings accepted by `fromRaw`. */
export const SUPPORTED_ENCODINGS: readonly string[] = [...LAYOUT_BY_ENCODING.keys()];

/** YUV 4:2:2 packs two pixels in four bytes, so it averages two bytes per pixel. */
export const BYTES_PER_PIXEL: Readonly<Record<PixelLayout, number>> = {
  rgb8: 3,
  bgr8: 3,
  rgba8: 4,
  bgra8: 4,
  mono8: 1,
  mono16: 2,
  uyvy: 2,
  yuyv: 2,
};

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * Checks a frame's geometry against its data before any byte is read, so a malformed message
 * becomes a FrameError instead of out-of-range reads that would silently yield NaN.
 */
export function checkRawImage(img: RawImage): PixelLayout {
  const { width, height, encoding, step } = img;
  const layout = LAYOUT_BY_ENCODING.get(encoding);
  if (layout === undefined) {
    throw new FrameError(
      'unknown-encoding',
      `frame ${width}x${height} has unknown encoding ${JSON.stringify(encoding)} ` +
        `(supported: ${SUPPORTED_ENCODINGS.join(', ')})`,
    );
  }
  const what = `frame ${width}x${height} ${encoding}`;
  if (!isCount(width) || !isCount(height) || !isCount(step)) {
    throw new FrameError('invalid-size', `${what} has invalid geometry (step ${step})`);
  }
  if (width === 0 || height === 0) {
    throw new FrameError('zero-size', `${what} has zero size`);
  }
  if ((layout === 'uyvy' || layout === 'yuyv') && width % 2 !== 0) {
    throw new FrameError('odd-width', `${what} has odd width; YUV 4:2:2 needs pixel pairs`);
  }
  const rowBytes = width * BYTES_PER_PIXEL[layout];
  if (step < rowBytes) {
    throw new FrameError(
      'step-too-small',
      `${what} has step ${step}, expected at least ${rowBytes} (${width} px * ${BYTES_PER_PIXEL[layout]} bytes)`,
    );
  }
  const needed = step * height;
  if (img.data.length < needed) {
    throw new FrameError('truncated', `${what} has ${img.data.length} bytes, expected at least ${needed}`);
  }
  return layout;
}
