import { describe, expect, it } from 'vitest';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import { frameValues } from '../../models/src/train/dataset.ts';
import { SimDataset } from '../../sim/loop/dataset.ts';
import { Rng } from '../../common/index.ts';
import { Simulator } from '../../sim/simulator.ts';
import { loadWorld } from '../../sim/world/load.ts';
import { appearanceVariant, luma, textureLuma } from '../../sim/world/variants.ts';

describe('appearance variants', () => {
  const world = loadWorld('warehouse-kidney');

  it('change the look and keep the layout', () => {
    const rand = new Rng(3);
    for (let i = 0; i < 20; i++) {
      const v = appearanceVariant(world, rand);
      expect(v.track).toEqual(world.track);
      expect({ ...v.walls, texture: null }).toEqual({ ...world.walls, texture: null });
      expect(v.distractors.map((d) => ({ ...d, texture: null }))).toEqual(
        world.distractors.map((d) => ({ ...d, texture: null })),
      );
      expect(v.heldOut).toBe(world.heldOut);
      // Some marking is always drawn, and stands out from the surface it is painted on.
      const marked = [v.markings.edges, v.markings.centre].filter((m) => m.style !== 'none');
      expect(marked.length).toBeGreaterThan(0);
      const ground = textureLuma(v.floor.lane ?? v.floor.texture);
      const best = Math.max(...marked.map((m) => Math.abs(luma(m.colour) - ground)));
      expect(best).toBeGreaterThanOrEqual(20);
    }
  });

  it('are deterministic for the random source, and differ from draw to draw', () => {
    const a = appearanceVariant(world, new Rng(9));
    const b = appearanceVariant(world, new Rng(9));
    expect(a).toEqual(b);
    const r = new Rng(9);
    expect(appearanceVariant(world, r)).not.toEqual(appearanceVariant(world, r));
  });

  it('build and render like any world', () => {
    const rand = new Rng(4);
    for (let i = 0; i < 4; i++) {
      const sim = Simulator.create({ world: appearanceVariant(world, rand), seed: i });
      const frame = sim.render();
      expect(frame.length).toBe(640 * 480 * 3);
    }
  });
});

describe('SimDataset', () => {
  const FRAME_VALUES = frameValues(FADNET_INPUT_SPEC);
  const WIDTH = FADNET_INPUT_SPEC.width;
  const worlds = [loadWorld('office-loop')];
  const generate = (randomise: boolean, seed = 2): SimDataset =>
    SimDataset.generate({
      worlds,
      samplesPerWorld: 24,
      seed,
      inputSpec: FADNET_INPUT_SPEC,
      ...(randomise ? { randomiseAppearance: { episodeSamples: 8 } } : {}),
    });
  const read = async (d: SimDataset, indices: number[]): Promise<{ x: Float32Array; y: Float32Array }> => {
    const x = new Float32Array(indices.length * FRAME_VALUES);
    const y = new Float32Array(indices.length);
    await d.read(indices, x, y);
    return { x, y };
  };

  it('holds each sample and its mirror image with the steering negated', async () => {
    const d = generate(false);
    expect(d.size).toBe(48);
    const { x, y } = await read(d, [5, 24 + 5]);
    expect(y[1]).toBe(-y[0]!);
    expect(Math.abs(y[0]!)).toBeLessThanOrEqual(1);
    // Row 17 of the mirror is row 17 of the original reversed.
    const row = (k: number): number[] => [
      ...x.subarray(k * FRAME_VALUES + 17 * WIDTH, k * FRAME_VALUES + 18 * WIDTH),
    ];
    expect(row(1)).toEqual(row(0).reverse());
    for (const v of x) expect(v >= -1 && v <= 1).toBe(true);
  });

  it('is deterministic for a seed, with or without random looks', async () => {
    for (const randomise of [false, true]) {
      const a = await read(generate(randomise), [0, 10, 20]);
      const b = await read(generate(randomise), [0, 10, 20]);
      expect(a.x).toEqual(b.x);
      expect(a.y).toEqual(b.y);
    }
  });

  it('re-dresses the world after each episode but keeps the first episode as it is', async () => {
    const fixed = await read(generate(false), [0, 3, 12, 20]);
    const varied = await read(generate(true), [0, 3, 12, 20]);
    // First episode (samples 0-7): the same frames; later episodes: other looks.
    expect(varied.x.subarray(0, 2 * FRAME_VALUES)).toEqual(fixed.x.subarray(0, 2 * FRAME_VALUES));
    const mean = (a: Float32Array, k: number): number =>
      a.subarray(k * FRAME_VALUES, (k + 1) * FRAME_VALUES).reduce((s, v) => s + v, 0) / FRAME_VALUES;
    const differs = [2, 3].filter((k) => Math.abs(mean(varied.x, k) - mean(fixed.x, k)) > 0.01);
    expect(differs.length).toBeGreaterThan(0);
  });
});
