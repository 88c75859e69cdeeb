import { describe, expect, it } from 'vitest';
import type { InputSpec } from '../../models/src/input-spec.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import { createPreprocessor } from '../../models/src/preprocess/index.ts';
import type { Pattern } from './frames.ts';
import { makeFrame } from './frames.ts';
import { maxGreyError, referenceGrey } from './reference.ts';

// The implementation and the reference differ only by floating-point rounding; anything near
// one grey level would be a real bug, so the bar is far below it.
const TOLERANCE = 1e-3;

const ENCODINGS = [
  'rgb8',
  'bgr8',
  'rgba8',
  'bgra8',
  'mono8',
  'mono16',
  'yuv422',
  'uyvy',
  'yuv422_yuy2',
  'yuyv',
] as const;

/** 2x (the 2x2-mean path), 4x by 3x and 1.325x by 1x (the general bilinear path). */
const SIZES: readonly (readonly [number, number])[] = [
  [640, 480],
  [1280, 720],
  [424, 240],
];

const BT709: InputSpec = {
  ...FADNET_INPUT_SPEC,
  colour: { kind: 'grey', weights: [0.2126, 0.7152, 0.0722] },
};

function check(spec: InputSpec, encoding: string, width: number, height: number, pattern: Pattern): number {
  const img = makeFrame(encoding, width, height, { pattern, seed: width + height });
  return maxGreyError(createPreprocessor(spec).fromRaw(img), referenceGrey(img, spec), spec);
}

describe('every encoding matches the reference pipeline', () => {
  describe.each(ENCODINGS)('%s', (encoding) => {
    it.each(SIZES)('random %ix%i', (width, height) => {
      expect(check(FADNET_INPUT_SPEC, encoding, width, height, 'random')).toBeLessThan(TOLERANCE);
    });

    it('smooth 640x480 and 1280x720', () => {
      expect(check(FADNET_INPUT_SPEC, encoding, 640, 480, 'smooth')).toBeLessThan(TOLERANCE);
      expect(check(FADNET_INPUT_SPEC, encoding, 1280, 720, 'smooth')).toBeLessThan(TOLERANCE);
    });
  });

  it.each([
    ['big', true],
    ['little', false],
  ])('mono16 %s-endian', (_, bigEndian) => {
    const spec = FADNET_INPUT_SPEC;
    const img = makeFrame('mono16', 640, 480, { bigEndian, seed: 7 });
    expect(maxGreyError(createPreprocessor(spec).fromRaw(img), referenceGrey(img, spec), spec)).toBeLessThan(
      TOLERANCE,
    );
  });

  it('mono16 endianness changes the result', () => {
    const pre = createPreprocessor(FADNET_INPUT_SPEC);
    const little = makeFrame('mono16', 64, 48, { seed: 3 });
    const big = { ...little, is_bigendian: 1 };
    expect(pre.fromRaw(big)).not.toEqual(pre.fromRaw(little));
  });
});

describe('colour weights come from the spec', () => {
  it.each(['rgb8', 'bgra8'])('%s under BT.709 weights', (encoding) => {
    expect(check(BT709, encoding, 640, 480, 'random')).toBeLessThan(TOLERANCE);
  });

  // Not BT.601, so Y is not the grey value: YUV is decoded to clamped RGB and weighted. Random
  // bytes include many out-of-gamut triples, which exercises the clamping.
  it.each(['yuyv', 'yuv422'])('%s under BT.709 weights, on both paths', (encoding) => {
    for (const [width, height] of SIZES) {
      expect(check(BT709, encoding, width, height, 'random')).toBeLessThan(TOLERANCE);
    }
  });

  it('mono frames are taken as grey whatever the weights', () => {
    const halved: InputSpec = { ...FADNET_INPUT_SPEC, colour: { kind: 'grey', weights: [0.1, 0.2, 0.2] } };
    const img = makeFrame('mono8', 640, 480);
    expect(createPreprocessor(halved).fromRaw(img)).toEqual(
      createPreprocessor(FADNET_INPUT_SPEC).fromRaw(img),
    );
  });

  it('BT.601 YUV grey is the luma byte, even where the colour is out of gamut', () => {
    // Y = 200 with extreme chroma decodes to clamped RGB; grey must still be exactly 200.
    const data = new Uint8Array(4 * 2 * 2).fill(200);
    for (let i = 1; i < data.length; i += 2) data[i] = i % 4 === 1 ? 0 : 255;
    const spec: InputSpec = {
      ...FADNET_INPUT_SPEC,
      width: 2,
      height: 2,
      resize: { width: 4, height: 2, interpolation: 'bilinear' },
      crop: { kind: 'center', width: 2, height: 2 },
      scaling: { scale: 1, offset: 0 },
    };
    const img = { width: 4, height: 2, encoding: 'yuyv', is_bigendian: 0, step: 8, data };
    expect(Array.from(createPreprocessor(spec).fromRaw(img))).toEqual([200, 200, 200, 200]);
  });
});

describe('value range', () => {
  const pre = createPreprocessor(FADNET_INPUT_SPEC);

  it.each([
    ['rgb8', 3, 255, 1],
    ['rgb8', 3, 0, -1],
    ['mono16', 2, 255, 1],
    ['yuyv', 2, 0, -1],
  ] as const)('%s filled with byte %i gives %i everywhere', (encoding, bpp, fill, expected) => {
    const img = {
      width: 640,
      height: 480,
      encoding,
      is_bigendian: 0,
      step: 640 * bpp,
      data: new Uint8Array(640 * 480 * bpp).fill(fill),
    };
    // yuyv with zero chroma is far out of gamut; BT.601 grey ignores chroma, so it is still -1.
    expect(pre.fromRaw(img).every((v) => v === expected)).toBe(true);
  });
});
