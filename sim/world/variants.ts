// Appearance randomisation for training data: the same track layout (centreline, width, walls,
// distractor positions) re-dressed with other floor and wall textures, marking colours and
// styles, lighting and distractor looks. A model trained on a handful of fixed-looking worlds
// learns those worlds' particular cues (a white line on wood, blue tape on carpet) and follows
// them, or an unrelated grout line, when the floor changes. Drawing the look of each episode
// from the renderer's whole vocabulary teaches the cue that transfers: the lane's geometry.
// Layout is never changed, so the expert's labels stay exactly right.
import type { Rng } from '../../common/index.ts';
import type { Rgb, Texture, World } from './schema.ts';

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng.next() * items.length)]!;

/** BT.601 luma, as the model's preprocessing sees a colour. */
export function luma([r, g, b]: Rgb): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** A colour of the given luma range with a random hue and saturation. */
function colour(rand: Rng, lumaLo = 20, lumaHi = 235, maxSaturation = 1): Rgb {
  const target = rand.uniform(lumaLo, lumaHi);
  const sat = rand.next() * maxSaturation;
  const hue: Rgb = [rand.next(), rand.next(), rand.next()];
  const mean = luma([hue[0] * 255, hue[1] * 255, hue[2] * 255]) / 255 || 0.5;
  const c = hue.map((h) => {
    const tinted = 1 + sat * (h / mean - 1); // 1 = grey, away from 1 = the hue
    return Math.max(0, Math.min(255, Math.round(target * tinted)));
  });
  return [c[0]!, c[1]!, c[2]!];
}

/** A colour that differs from `from` by at least `contrast` grey levels (or the best of a few). */
function contrasting(rand: Rng, from: number, contrast: number): Rgb {
  let best = colour(rand);
  for (let i = 0; i < 12 && Math.abs(luma(best) - from) < contrast; i++) {
    const c = colour(rand);
    if (Math.abs(luma(c) - from) > Math.abs(luma(best) - from)) best = c;
  }
  return best;
}

function shade(c: Rgb, factor: number): Rgb {
  return [
    Math.max(0, Math.min(255, Math.round(c[0] * factor))),
    Math.max(0, Math.min(255, Math.round(c[1] * factor))),
    Math.max(0, Math.min(255, Math.round(c[2] * factor))),
  ];
}

/** Mean luma of a texture, to keep markings visible against it. */
export function textureLuma(t: Texture): number {
  switch (t.kind) {
    case 'plain':
    case 'noise':
    case 'asphalt':
    case 'tiles':
    case 'bricks':
      return luma(t.colour);
    case 'checker':
    case 'wood':
    case 'stripes':
      return (luma(t.colours[0]) + luma(t.colours[1])) / 2;
  }
}

function floorTexture(rand: Rng): Texture {
  const base = colour(rand, 35, 215, 0.5);
  switch (pick(rand, ['noise', 'asphalt', 'wood', 'tiles', 'checker', 'plain'] as const)) {
    case 'noise':
      return {
        kind: 'noise',
        colour: base,
        amplitude: rand.uniform(0.05, 0.45),
        scale: rand.uniform(0.05, 1),
      };
    case 'asphalt':
      return {
        kind: 'asphalt',
        colour: shade(base, 0.6),
        grain: rand.uniform(0.1, 0.4),
        speckle: rand.next() * 0.06,
      };
    case 'wood':
      return {
        kind: 'wood',
        plankWidth: rand.uniform(0.08, 0.25),
        plankLength: rand.uniform(0.6, 2.4),
        colours: [base, shade(base, rand.uniform(0.75, 0.95))],
      };
    case 'tiles':
      return {
        kind: 'tiles',
        size: rand.uniform(0.15, 0.6),
        colour: base,
        grout: shade(base, rand.uniform(0.5, 0.85)),
        groutWidth: rand.uniform(0.005, 0.02),
      };
    case 'checker':
      return {
        kind: 'checker',
        size: rand.uniform(0.2, 0.8),
        colours: [base, shade(base, rand.uniform(0.7, 0.95))],
      };
    case 'plain':
      return { kind: 'plain', colour: base };
  }
}

function surfaceTexture(rand: Rng): Texture {
  const a = colour(rand, 30, 235);
  switch (pick(rand, ['plain', 'stripes', 'bricks', 'noise', 'checker'] as const)) {
    case 'plain':
      return { kind: 'plain', colour: a };
    case 'stripes':
      return { kind: 'stripes', width: rand.uniform(0.05, 0.5), colours: [a, colour(rand, 30, 235)] };
    case 'bricks':
      return {
        kind: 'bricks',
        brickWidth: rand.uniform(0.15, 0.45),
        brickHeight: rand.uniform(0.06, 0.22),
        colour: a,
        mortar: colour(rand, 60, 220, 0.2),
      };
    case 'noise':
      return {
        kind: 'noise',
        colour: a,
        amplitude: rand.uniform(0.1, 0.5),
        scale: rand.uniform(0.05, 0.5),
      };
    case 'checker':
      return { kind: 'checker', size: rand.uniform(0.05, 0.2), colours: [a, colour(rand, 30, 235)] };
  }
}

/**
 * `world` with a random look: layout, walls' placement and distractors' placement unchanged.
 * Deterministic for the random source. The edges or the centre line (or both) are always
 * marked, at least 35 grey levels away from the floor, as a real track's tape would be.
 */
export function appearanceVariant(world: World, rand: Rng): World {
  const floor = floorTexture(rand);
  const lane = rand.next() < 0.25 ? floorTexture(rand) : undefined;
  const ground = textureLuma(lane ?? floor);
  const layout = pick(rand, ['edges', 'edges', 'both', 'both', 'centre'] as const);
  const line = (style: 'solid' | 'dashed'): World['markings']['centre'] => ({
    style,
    colour: contrasting(rand, ground, 35),
    width: rand.uniform(0.03, 0.08),
    dash: rand.uniform(0.15, 0.6),
    gap: rand.uniform(0.15, 0.6),
  });
  const none = (): World['markings']['centre'] => ({
    style: 'none',
    colour: [255, 255, 255],
    width: 0.05,
    dash: 0.3,
    gap: 0.3,
  });
  return {
    ...world,
    name: `${world.name}-variant`,
    floor: lane === undefined ? { texture: floor } : { texture: floor, lane },
    walls: { ...world.walls, texture: surfaceTexture(rand) },
    markings: {
      edges: layout === 'centre' ? none() : line('solid'),
      centre: layout === 'edges' ? none() : line(rand.next() < 0.7 ? 'dashed' : 'solid'),
    },
    lighting: {
      ambient: rand.uniform(0.4, 0.8),
      sun: {
        azimuthDeg: rand.uniform(-180, 180),
        elevationDeg: rand.uniform(25, 85),
        intensity: rand.uniform(0.2, 0.65),
      },
      sky: [colour(rand, 80, 240, 0.4), colour(rand, 80, 240, 0.4)],
    },
    distractors: world.distractors.map((d) => ({ ...d, texture: surfaceTexture(rand) })),
  };
}
