import { describe, expect, it } from 'vitest';
import type { InputSpec } from '../../models/src/input-spec.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import { resampleGeneric } from '../../models/src/preprocess/bilinear.ts';
import type { PixelLayout } from '../../models/src/preprocess/frame.ts';
import { greyMap } from '../../models/src/preprocess/colour.ts';
import { createPreprocessor } from '../../models/src/preprocess/index.ts';
import { pairMean } from '../../models/src/preprocess/pair-mean.ts';
import { axisTaps, buildPlan } from '../../models/src/preprocess/plan.ts';
import { makeFrame, misaligned } from './frames.ts';
import { maxGreyError, maxInputDiff, referenceGrey } from './reference.ts';

const TOLERANCE = 1e-3;
const spec = FADNET_INPUT_SPEC;

function specWith(resize: [number, number], crop: [number, number]): InputSpec {
  return {
    ...spec,
    width: crop[0],
    height: crop[1],
    resize: { width: resize[0], height: resize[1], interpolation: 'bilinear' },
    crop: { kind: 'center', width: crop[0], height: crop[1] },
  };
}

function errorVsReference(s: InputSpec, img: ReturnType<typeof makeFrame>): number {
  return maxGreyError(createPreprocessor(s).fromRaw(img), referenceGrey(img, s), s);
}

describe('OpenCV INTER_LINEAR coordinates', () => {
  it('2x shrink reads the 2x2 block under each output pixel with weight 1/2 per axis', () => {
    const taps = axisTaps(640, 320, 60, 3);
    expect(Array.from(taps.src)).toEqual([120, 121, 122, 123, 124, 125]);
    expect(Array.from(taps.w)).toEqual([0.5, 0.5, 0.5]);
  });

  it('clamps at the borders with weight 0 and reads nothing outside the frame', () => {
    // Upscale 4 -> 8: src = (d + 0.5) / 2 - 0.5, i.e. -0.25, 0.25, ..., 3.25.
    const taps = axisTaps(4, 8, 0, 8);
    expect(Array.from(taps.w)).toEqual([0, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0]);
    expect(Array.from(taps.i0)).toEqual([0, 0, 0, 1, 1, 2, 2, 3]);
    expect(Array.from(taps.i1)).toEqual([0, 1, 1, 2, 2, 3, 3, 3]);
    expect(Array.from(taps.src)).toEqual([0, 1, 2, 3]);
    expect(Array.from(taps.lo).map((i) => taps.src[i])).toEqual(Array.from(taps.i0));
    expect(Array.from(taps.hi).map((i) => taps.src[i])).toEqual(Array.from(taps.i1));
  });

  it('640x480 -> 320x240 is exactly the 2x2 box mean', () => {
    const s: InputSpec = { ...spec, scaling: { scale: 1, offset: 0 } };
    const img = makeFrame('mono8', 640, 480, { seed: 5 });
    const out = createPreprocessor(s).fromRaw(img);
    const at = (x: number, y: number): number => img.data[y * 640 + x] ?? NaN;
    // Output (0, 0) is resized (60, 20): source block x 120..121, y 40..41.
    expect(out[0]).toBe(Math.fround((at(120, 40) + at(121, 40) + at(120, 41) + at(121, 41)) / 4));
    expect(out[199 * 200 + 199]).toBe(
      Math.fround((at(518, 438) + at(519, 438) + at(518, 439) + at(519, 439)) / 4),
    );
  });
});

describe('2x2-mean path and general bilinear path agree', () => {
  const layouts: [PixelLayout, string][] = [
    ['rgb8', 'rgb8'],
    ['bgra8', 'bgra8'],
    ['mono8', 'mono8'],
    ['mono16', 'mono16'],
    ['yuyv', 'yuyv'],
    ['uyvy', 'yuv422'],
  ];

  it.each(layouts)('%s', (layout, encoding) => {
    const img = makeFrame(encoding, 640, 480, { seed: 11 });
    const plan = buildPlan(
      { resizeWidth: 320, resizeHeight: 240, cropWidth: 200, cropHeight: 200 },
      img.width,
      img.height,
    );
    const map = greyMap(layout, false, spec.colour.weights);
    if (plan.pair === null || map.kind !== 'linear') throw new Error('expected the 2x2-mean path');
    const { scale, offset } = spec.scaling;
    const fast = new Float32Array(40000);
    const general = new Float32Array(40000);
    pairMean(img.data, img.step, map, plan.pair, plan, scale, offset, fast);
    resampleGeneric(img.data, img.step, map, plan, scale, offset, general);
    expect(maxInputDiff(fast, general, spec)).toBeLessThan(1e-3);
  });

  it.each(['rgb8', 'rgba8', 'mono8', 'mono16', 'yuyv'])(
    '%s: word loads and byte loads give identical results',
    (encoding) => {
      const pre = createPreprocessor(spec);
      const img = makeFrame(encoding, 640, 480, { seed: 13 });
      expect(pre.fromRaw(misaligned(img))).toEqual(pre.fromRaw(img));
    },
  );
});

describe('row padding (step > width * bytes per pixel)', () => {
  // 7 bytes of padding breaks word alignment (byte loop); 64 keeps it (word loop).
  it.each(['rgb8', 'bgra8', 'mono8', 'mono16', 'yuv422', 'yuyv'])('%s', (encoding) => {
    for (const padding of [7, 64]) {
      for (const [width, height] of [
        [640, 480],
        [424, 240],
      ] as const) {
        const img = makeFrame(encoding, width, height, { padding, seed: padding });
        expect(errorVsReference(spec, img)).toBeLessThan(TOLERANCE);
      }
    }
  });
});

describe('other geometries', () => {
  it.each(['rgb8', 'mono8', 'yuyv'])('%s: odd crop sizes and offsets', (encoding) => {
    // 199 columns leaves one output column after the pairs of the word loop.
    const s = specWith([320, 240], [199, 151]);
    expect(errorVsReference(s, makeFrame(encoding, 640, 480))).toBeLessThan(TOLERANCE);
    expect(errorVsReference(s, makeFrame(encoding, 1280, 720))).toBeLessThan(TOLERANCE);
  });

  it.each(['rgb8', 'mono16'])('%s: 4x shrink averages the middle 2x2 of each 4x4 block', (encoding) => {
    expect(errorVsReference(spec, makeFrame(encoding, 1280, 960))).toBeLessThan(TOLERANCE);
  });

  it.each(['bgr8', 'yuyv'])('%s: upscale and identity size', (encoding) => {
    expect(errorVsReference(spec, makeFrame(encoding, 160, 120))).toBeLessThan(TOLERANCE);
    expect(errorVsReference(spec, makeFrame(encoding, 320, 240))).toBeLessThan(TOLERANCE);
  });

  it.each(['rgb8', 'yuyv'])('%s: tiny frames, where every tap clamps', (encoding) => {
    const s = specWith([5, 3], [3, 3]);
    for (const [w, h] of [
      [2, 1],
      [4, 2],
      [6, 5],
    ] as const) {
      expect(errorVsReference(s, makeFrame(encoding, w, h))).toBeLessThan(TOLERANCE);
    }
  });

  it('one preprocessor handles frames of changing sizes', () => {
    const pre = createPreprocessor(spec);
    const sizes = [640, 424, 1280, 320, 160, 848, 640, 424];
    sizes.forEach((width, i) => {
      const img = makeFrame('rgb8', width, (width * 3) / 4, { seed: i });
      expect(maxGreyError(pre.fromRaw(img), referenceGrey(img, spec), spec)).toBeLessThan(TOLERANCE);
    });
  });
});

describe('output buffer', () => {
  const pre = createPreprocessor(spec);
  const img = makeFrame('rgb8', 640, 480);

  it('is written in place and returned when given', () => {
    const out = new Float32Array(pre.outputLength);
    expect(pre.fromRaw(img, out)).toBe(out);
    expect(out).toEqual(pre.fromRaw(img));
    expect(pre.outputLength).toBe(200 * 200);
  });

  it('of the wrong length is a programming error', () => {
    expect(() => pre.fromRaw(img, new Float32Array(100))).toThrow(
      new RangeError('output buffer has 100 elements, expected 40000 (200x200)'),
    );
  });
});

describe('createPreprocessor', () => {
  it('rejects a spec that fails the manifest schema', () => {
    const bad = { ...spec, crop: { kind: 'center', width: 400, height: 200 } } as InputSpec;
    expect(() => createPreprocessor(bad)).toThrow(/crop must fit inside the resized frame/);
  });
});
