import sharp from 'sharp';
import type { OutputInfo } from 'sharp';
import { FrameError } from './errors.ts';
import type { CompressedImageData, RawImage } from './frame.ts';

export type CompressedCodec = 'jpeg' | 'png';

const SIGNATURES: Readonly<Record<CompressedCodec, readonly number[]>> = {
  jpeg: [0xff, 0xd8, 0xff],
  png: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
};

/**
 * Reads the codec from a `sensor_msgs/CompressedImage` format string. image_transport writes
 * "jpeg"/"png" (older releases) or "<encoding>; <codec> compressed <encoding>"; the codec is
 * the part that matters here because sharp restores RGB order on decode. compressedDepth
 * frames carry depth, not a camera image, and are refused.
 */
export function compressedCodec(format: string): CompressedCodec {
  const lower = format.toLowerCase();
  const words = lower.split(/[\s;]+/);
  if (!lower.includes('compresseddepth')) {
    if (words.includes('jpeg') || words.includes('jpg')) return 'jpeg';
    if (words.includes('png')) return 'png';
  }
  throw new FrameError(
    'unknown-format',
    `compressed frame format ${JSON.stringify(format)} is not jpeg or png`,
  );
}

/**
 * Decodes to 8-bit RGB (alpha dropped, grey expanded, 16-bit PNG reduced), so that a compressed
 * frame goes through exactly the same preprocessing as the equivalent rgb8 `sensor_msgs/Image`.
 */
export async function decodeCompressed(msg: CompressedImageData): Promise<RawImage> {
  const { format, data } = msg;
  const codec = compressedCodec(format);
  const what = `compressed frame (format ${JSON.stringify(format)}, ${data.length} bytes)`;
  if (data.length === 0) throw new FrameError('zero-size', `${what} is empty`);
  // Checking the signature first keeps libvips from guessing among its other loaders
  // (TIFF, SVG, ...) for bytes that claim to be a camera frame.
  if (!SIGNATURES[codec].every((byte, i) => data[i] === byte)) {
    throw new FrameError('undecodable', `${what} does not start with a ${codec.toUpperCase()} signature`);
  }
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // A JPEG that decodes only with warnings is a damaged frame: better skipped than steered on.
    decoded = await sharp(data, { failOn: 'warning' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message.trim() : String(error);
    throw new FrameError('undecodable', `${what} could not be decoded: ${detail}`, { cause: error });
  }
  const { width, height, channels } = decoded.info;
  if (channels !== 3) {
    throw new FrameError('undecodable', `${what} decoded to ${channels} channels, expected 3`);
  }
  return { width, height, encoding: 'rgb8', is_bigendian: 0, step: width * 3, data: decoded.data };
}
