import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import type { FrameErrorReason, RawImage } from '../../models/src/preprocess/index.ts';
import { createPreprocessor, FrameError } from '../../models/src/preprocess/index.ts';

const pre = createPreprocessor(FADNET_INPUT_SPEC);

function frame(overrides: Partial<RawImage>): RawImage {
  return {
    width: 640,
    height: 480,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: 1920,
    data: new Uint8Array(1920 * 480),
    ...overrides,
  };
}

function rejection(run: () => unknown): FrameError {
  try {
    run();
  } catch (error: unknown) {
    if (error instanceof FrameError) return error;
    throw error;
  }
  throw new Error('expected a FrameError');
}

async function asyncRejection(run: () => Promise<unknown>): Promise<FrameError> {
  const error: unknown = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof FrameError) return error;
  throw new Error(`expected a FrameError, got ${String(error)}`);
}

describe('raw frames that must be skipped', () => {
  const cases: [string, Partial<RawImage>, FrameErrorReason, string][] = [
    [
      'unknown encoding',
      { encoding: 'bayer_rggb8' },
      'unknown-encoding',
      'frame 640x480 has unknown encoding "bayer_rggb8" (supported: rgb8, bgr8, rgba8, bgra8, mono8, ' +
        'mono16, yuv422, uyvy, yuv422_yuy2, yuyv)',
    ],
    ['zero width', { width: 0 }, 'zero-size', 'frame 0x480 rgb8 has zero size'],
    ['zero height', { height: 0, data: new Uint8Array(0) }, 'zero-size', 'frame 640x0 rgb8 has zero size'],
    [
      'fractional width',
      { width: 640.5 },
      'invalid-size',
      'frame 640.5x480 rgb8 has invalid geometry (step 1920)',
    ],
    ['negative step', { step: -1 }, 'invalid-size', 'frame 640x480 rgb8 has invalid geometry (step -1)'],
    [
      'odd width for yuv422',
      { width: 639, encoding: 'yuv422', step: 1278 },
      'odd-width',
      'frame 639x480 yuv422 has odd width; YUV 4:2:2 needs pixel pairs',
    ],
    [
      'odd width for yuyv',
      { width: 1, height: 1, encoding: 'yuyv', step: 2 },
      'odd-width',
      'frame 1x1 yuyv has odd width; YUV 4:2:2 needs pixel pairs',
    ],
    [
      'step smaller than a row',
      { step: 1919 },
      'step-too-small',
      'frame 640x480 rgb8 has step 1919, expected at least 1920 (640 px * 3 bytes)',
    ],
    [
      'step of a narrower encoding',
      { encoding: 'rgba8' },
      'step-too-small',
      'frame 640x480 rgba8 has step 1920, expected at least 2560 (640 px * 4 bytes)',
    ],
    [
      'one byte short',
      { data: new Uint8Array(921599) },
      'truncated',
      'frame 640x480 rgb8 has 921599 bytes, expected at least 921600',
    ],
    [
      'short of the padded size',
      { step: 2048, data: new Uint8Array(1920 * 480) },
      'truncated',
      'frame 640x480 rgb8 has 921600 bytes, expected at least 983040',
    ],
    [
      'no data at all',
      { data: new Uint8Array(0) },
      'truncated',
      'frame 640x480 rgb8 has 0 bytes, expected at least 921600',
    ],
  ];

  it.each(cases)('%s', (_, overrides, reason, message) => {
    const out = new Float32Array(pre.outputLength).fill(7);
    const error = rejection(() => pre.fromRaw(frame(overrides), out));
    expect(error.name).toBe('FrameError');
    expect(error).toBeInstanceOf(Error);
    expect(error.reason).toBe(reason);
    expect(error.message).toBe(message);
    // A rejected frame leaves the previous input in place.
    expect(out.every((v) => v === 7)).toBe(true);
  });

  it('a loop skips bad frames and carries on', () => {
    const frames = [frame({}), frame({ step: 10 }), frame({ encoding: '' }), frame({})];
    const skipped: FrameErrorReason[] = [];
    let done = 0;
    for (const f of frames) {
      try {
        pre.fromRaw(f);
        done++;
      } catch (error: unknown) {
        if (!(error instanceof FrameError)) throw error;
        skipped.push(error.reason);
      }
    }
    expect({ done, skipped }).toEqual({ done: 2, skipped: ['step-too-small', 'unknown-encoding'] });
  });
});

describe('compressed frames that must be skipped', () => {
  it.each([
    ['tiff', 'compressed frame format "tiff" is not jpeg or png'],
    ['', 'compressed frame format "" is not jpeg or png'],
    ['16UC1; compressedDepth png', 'compressed frame format "16UC1; compressedDepth png" is not jpeg or png'],
  ])('format %j', async (format, message) => {
    const error = await asyncRejection(() =>
      pre.fromCompressed({ format, data: new Uint8Array([0xff, 0xd8, 0xff]) }),
    );
    expect([error.reason, error.message]).toEqual(['unknown-format', message]);
  });

  it('empty data', async () => {
    const error = await asyncRejection(() => pre.fromCompressed({ format: 'jpeg', data: new Uint8Array(0) }));
    expect([error.reason, error.message]).toEqual([
      'zero-size',
      'compressed frame (format "jpeg", 0 bytes) is empty',
    ]);
  });

  it('data that is not what the format says', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const error = await asyncRejection(() =>
      pre.fromCompressed({ format: 'rgb8; jpeg compressed bgr8', data: png }),
    );
    expect([error.reason, error.message]).toEqual([
      'undecodable',
      `compressed frame (format "rgb8; jpeg compressed bgr8", ${png.length} bytes) does not start with a JPEG signature`,
    ]);
  });

  it.each([
    ['jpeg', 'truncated'],
    ['png', 'truncated'],
    ['jpeg', 'corrupted'],
  ] as const)('%s, %s', async (codec, damage) => {
    const image = sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } });
    const encoded = await (codec === 'jpeg' ? image.jpeg() : image.png()).toBuffer();
    const data =
      damage === 'truncated'
        ? encoded.subarray(0, Math.floor(encoded.length / 2))
        : Buffer.concat([encoded.subarray(0, 4), Buffer.alloc(encoded.length - 4, 0x5a)]);
    const error = await asyncRejection(() => pre.fromCompressed({ format: codec, data }));
    expect(error.reason).toBe('undecodable');
    expect(error.cause).toBeInstanceOf(Error);
    const cause = (error.cause as Error).message.trim();
    expect(cause.length).toBeGreaterThan(0);
    expect(error.message).toBe(
      `compressed frame (format "${codec}", ${data.length} bytes) could not be decoded: ${cause}`,
    );
  });
});
