// A cross-check against a second, unrelated implementation of grey + resize + crop: libvips
// through sharp. sharp's resize kernels are not OpenCV's INTER_LINEAR (its 'linear' kernel is a
// triangle filter widened with the shrink factor, i.e. antialiased), so they can only agree on
// smooth images, and only approximately: sharp also rounds its intermediate images to 8 bits.
// Measured with sharp 0.35: 0.75 grey levels (640x480, 'linear'), 0.56 (424x240, 'linear'),
// 0.5 (1280x720, 'nearest') and 0.75 (1280x960, 'nearest'); 'linear' at 4x reaches 1.0.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { FADNET_INPUT_SPEC as spec } from '../../models/src/input-spec.ts';
import type { RawImage } from '../../models/src/preprocess/index.ts';
import { createPreprocessor } from '../../models/src/preprocess/index.ts';
import { maxGreyError } from './reference.ts';

type Matrix3 = [[number, number, number], [number, number, number], [number, number, number]];

/** Gentle gradients with a low-frequency ripple, different per channel. */
function gentleRgb(width: number, height: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const u = x / width;
        const v = y / height;
        data[(y * width + x) * 3 + c] = Math.round(
          40 + (100 + 30 * c) * u + (60 - 20 * c) * v + 12 * Math.sin(3 * u + 2 * v + c),
        );
      }
    }
  }
  return { width, height, encoding: 'rgb8', is_bigendian: 0, step: width * 3, data };
}

async function sharpGrey(img: RawImage, kernel: 'linear' | 'nearest'): Promise<Float32Array> {
  const w = spec.colour.weights;
  const left = Math.floor((spec.resize.width - spec.crop.width) / 2);
  const top = Math.floor((spec.resize.height - spec.crop.height) / 2);
  const out = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .recomb([w, w, w] as Matrix3)
    .resize(spec.resize.width, spec.resize.height, { kernel, fit: 'fill' })
    .extract({ left, top, width: spec.crop.width, height: spec.crop.height })
    .extractChannel(0)
    .raw({ depth: 'float' })
    .toBuffer();
  return new Float32Array(out.buffer, out.byteOffset, out.length / 4);
}

describe('rgb8 against sharp (recomb with BT.601 weights, resize, extract)', () => {
  it.each([
    [640, 480, 'linear'],
    [424, 240, 'linear'],
    [1280, 720, 'nearest'],
    [1280, 960, 'nearest'],
  ] as const)('%ix%i with kernel %s within one grey level', async (width, height, kernel) => {
    const img = gentleRgb(width, height);
    const ours = createPreprocessor(spec).fromRaw(img);
    expect(maxGreyError(ours, await sharpGrey(img, kernel), spec)).toBeLessThan(1);
  });
});
