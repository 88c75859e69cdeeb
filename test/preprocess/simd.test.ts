// The SIMD kernel for 3- and 4-byte pixels against the JavaScript word loops it replaces, (the
// committed binaries against their sources: test/wasm-modules.test.ts).
import { describe, expect, it } from 'vitest';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import type { PixelLayout } from '../../models/src/preprocess/frame.ts';
import { greyMap } from '../../models/src/preprocess/colour.ts';
import { pairMean } from '../../models/src/preprocess/pair-mean.ts';
import { buildPlan } from '../../models/src/preprocess/plan.ts';
import { makeFrame, misaligned } from './frames.ts';

const spec = FADNET_INPUT_SPEC;

function both(
  layout: PixelLayout,
  img: ReturnType<typeof makeFrame>,
  resize: [number, number],
  crop: [number, number],
): { simd: Float32Array; js: Float32Array } {
  const plan = buildPlan(
    { resizeWidth: resize[0], resizeHeight: resize[1], cropWidth: crop[0], cropHeight: crop[1] },
    img.width,
    img.height,
  );
  const map = greyMap(layout, false, spec.colour.weights);
  if (plan.pair === null || map.kind !== 'linear') throw new Error('expected the 2x2-mean path');
  const { scale, offset } = spec.scaling;
  const simd = new Float32Array(crop[0] * crop[1]).fill(Number.NaN);
  const js = new Float32Array(crop[0] * crop[1]).fill(Number.NaN);
  pairMean(img.data, img.step, map, plan.pair, plan, scale, offset, simd, true);
  pairMean(img.data, img.step, map, plan.pair, plan, scale, offset, js, false);
  return { simd, js };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('SIMD 2x2-mean kernel', () => {
  const layouts: [PixelLayout, string][] = [
    ['rgb8', 'rgb8'],
    ['bgr8', 'bgr8'],
    ['rgba8', 'rgba8'],
    ['bgra8', 'bgra8'],
  ];

  it.each(layouts)('%s equals the word loops (float32 rounding) on every frame shape', (layout, encoding) => {
    const cases: [number, number, [number, number], [number, number], number][] = [
      [640, 480, [320, 240], [200, 200], 0], // the camera's frame, FADNet's spec
      [640, 480, [320, 240], [320, 240], 0], // no crop: the grid reaches the last row and column
      [1280, 960, [320, 240], [200, 200], 0], // 4x shrink: rows 4 apart
      [640, 480, [320, 240], [200, 200], 7], // padded rows, misaligned for words
    ];
    for (const [width, height, resize, crop, padding] of cases) {
      const img = makeFrame(encoding, width, height, { seed: width + padding, padding });
      for (const frame of [img, misaligned(img)]) {
        const { simd, js } = both(layout, frame, resize, crop);
        // |values| <= 1: float32 sums in another order differ by a few units in the last place.
        expect(maxDiff(simd, js)).toBeLessThan(1e-6);
        expect(simd.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('leaves widths that are not a multiple of 4 to the word loops', () => {
    const img = makeFrame('rgb8', 640, 480, { seed: 3 });
    const { simd, js } = both('rgb8', img, [320, 240], [198, 150]);
    expect(simd).toEqual(js);
  });
});
