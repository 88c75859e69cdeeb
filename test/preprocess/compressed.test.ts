import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import { compressedCodec } from '../../models/src/preprocess/compressed.ts';
import type { RawImage } from '../../models/src/preprocess/index.ts';
import { createPreprocessor } from '../../models/src/preprocess/index.ts';
import { makeFrame } from './frames.ts';
import { maxInputDiff } from './reference.ts';

const pre = createPreprocessor(FADNET_INPUT_SPEC);

function encoder(img: RawImage, channels: 1 | 3 | 4): Sharp {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels } });
}

/** What sharp itself decodes a compressed frame to, as a raw rgb8 message. */
async function sharpDecode(data: Buffer): Promise<RawImage> {
  const { data: rgb, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return {
    width: info.width,
    height: info.height,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: info.width * 3,
    data: rgb,
  };
}

describe('format strings as ROS publishes them', () => {
  it.each([
    ['jpeg', 'jpeg'],
    ['JPEG', 'jpeg'],
    ['jpg', 'jpeg'],
    ['rgb8; jpeg compressed bgr8', 'jpeg'],
    ['bgr8; jpeg compressed bgr8', 'jpeg'],
    ['mono8; jpeg compressed mono8', 'jpeg'],
    ['png', 'png'],
    ['bgr8; png compressed bgr8', 'png'],
    ['rgba8; png compressed rgba8', 'png'],
  ])('%j is %s', (format, codec) => {
    expect(compressedCodec(format)).toBe(codec);
  });
});

describe('JPEG', () => {
  // JPEG is lossy, so the bar is the decoded pixels: the compressed path must be exactly the
  // raw path applied to what sharp decodes.
  it.each([
    [640, 480, 'smooth'],
    [640, 480, 'random'],
    [1280, 720, 'smooth'],
    [424, 240, 'random'],
  ] as const)('%ix%i %s equals the raw path on the decoded pixels', async (width, height, pattern) => {
    const img = makeFrame('rgb8', width, height, { pattern });
    const jpeg = await encoder(img, 3).jpeg({ quality: 85 }).toBuffer();
    const fromJpeg = await pre.fromCompressed({ format: 'rgb8; jpeg compressed bgr8', data: jpeg });
    expect(fromJpeg).toEqual(pre.fromRaw(await sharpDecode(jpeg)));
    // And it is still a picture of the same scene.
    if (pattern === 'smooth') {
      expect(maxInputDiff(fromJpeg, pre.fromRaw(img), FADNET_INPUT_SPEC)).toBeLessThan(6);
    }
  });

  it('a greyscale JPEG gives the grey values', async () => {
    const img = makeFrame('mono8', 640, 480, { pattern: 'smooth' });
    const jpeg = await encoder(img, 1).jpeg({ quality: 95 }).toBuffer();
    const { data } = await sharp(jpeg).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    const decodedGrey = { ...img, data };
    const out = await pre.fromCompressed({ format: 'mono8; jpeg compressed mono8', data: jpeg });
    expect(maxInputDiff(out, pre.fromRaw(decodedGrey), FADNET_INPUT_SPEC)).toBeLessThan(1e-3);
  });
});

describe('PNG', () => {
  it.each([
    ['rgb8', 3, 'bgr8; png compressed bgr8'],
    ['rgba8', 4, 'rgba8; png compressed rgba8'],
  ] as const)('lossless %s equals the raw path on the original frame', async (encoding, channels, format) => {
    const img = makeFrame(encoding, 640, 480);
    const png = await encoder(img, channels).png({ compressionLevel: 1 }).toBuffer();
    expect(await pre.fromCompressed({ format, data: png })).toEqual(pre.fromRaw(img));
  });

  it('a greyscale PNG matches mono8 within float rounding', async () => {
    const img = makeFrame('mono8', 424, 240);
    const png = await encoder(img, 1).png().toBuffer();
    const out = await pre.fromCompressed({ format: 'png', data: png });
    expect(maxInputDiff(out, pre.fromRaw(img), FADNET_INPUT_SPEC)).toBeLessThan(1e-3);
  });
});

describe('concurrency and buffers', () => {
  it('decodes in parallel into separate output buffers', async () => {
    const imgs = [640, 1280, 424].map((w, i) => makeFrame('rgb8', w, (w * 3) / 4, { seed: i }));
    const pngs = await Promise.all(
      imgs.map((img) => encoder(img, 3).png({ compressionLevel: 1 }).toBuffer()),
    );
    const outs = imgs.map(() => new Float32Array(pre.outputLength));
    const results = await Promise.all(
      pngs.map((data, i) => pre.fromCompressed({ format: 'png', data }, outs[i])),
    );
    results.forEach((r, i) => {
      expect(r).toBe(outs[i]);
      expect(r).toEqual(pre.fromRaw(imgs[i]!));
    });
  });

  it('rejects a wrong-length output buffer before decoding', async () => {
    await expect(
      pre.fromCompressed({ format: 'png', data: new Uint8Array(0) }, new Float32Array(3)),
    ).rejects.toThrow(new RangeError('output buffer has 3 elements, expected 40000 (200x200)'));
  });
});
