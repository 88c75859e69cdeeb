// The world file format (sim/README.md, "World files"). Worlds are data: a user adds a track by
// writing JSON, and everything in it is checked here before the simulator builds anything.
import { z } from 'zod';

/** `#rrggbb`, parsed to [r, g, b] in 0..255. */
const Colour = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, 'expected a colour like "#a0b0c0"')
  .transform((s): Rgb => [
    Number.parseInt(s.slice(1, 3), 16),
    Number.parseInt(s.slice(3, 5), 16),
    Number.parseInt(s.slice(5, 7), 16),
  ]);
export type Rgb = [number, number, number];

const Point = z.tuple([z.number().finite(), z.number().finite()]);
const Positive = z.number().finite().positive();
const Fraction = z.number().min(0).max(1);

/** Procedural surface textures; sizes in metres, evaluated in world (floor) or wall coordinates. */
export const TextureSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('plain'), colour: Colour }).strict(),
  z.object({ kind: z.literal('checker'), size: Positive, colours: z.tuple([Colour, Colour]) }).strict(),
  z
    .object({
      kind: z.literal('noise'),
      colour: Colour,
      /** Brightness variation, as a fraction of the colour. */
      amplitude: Fraction,
      /** Feature size of the coarse octave. */
      scale: Positive,
    })
    .strict(),
  z
    .object({
      kind: z.literal('asphalt'),
      colour: Colour,
      grain: Fraction,
      /** Fraction of texels that are light stones. */
      speckle: Fraction.default(0.03),
    })
    .strict(),
  z
    .object({
      kind: z.literal('wood'),
      plankWidth: Positive,
      plankLength: Positive,
      colours: z.tuple([Colour, Colour]),
    })
    .strict(),
  z
    .object({
      kind: z.literal('tiles'),
      size: Positive,
      colour: Colour,
      grout: Colour,
      groutWidth: Positive,
    })
    .strict(),
  z.object({ kind: z.literal('stripes'), width: Positive, colours: z.tuple([Colour, Colour]) }).strict(),
  z
    .object({
      kind: z.literal('bricks'),
      brickWidth: Positive,
      brickHeight: Positive,
      colour: Colour,
      mortar: Colour,
    })
    .strict(),
]);
export type Texture = z.output<typeof TextureSchema>;

const LineStyle = z.enum(['none', 'solid', 'dashed']);

const Marking = z
  .object({
    style: LineStyle,
    colour: Colour.prefault('#ffffff'),
    width: Positive.default(0.05),
    /** Dash and gap lengths along the track (dashed lines only). */
    dash: Positive.default(0.3),
    gap: Positive.default(0.3),
  })
  .strict();

const TrackSchema = z.discriminatedUnion('kind', [
  z
    .object({
      /** Closed uniform Catmull-Rom spline through the points (driving direction = point order). */
      kind: z.literal('spline'),
      points: z.array(Point).min(4),
      width: Positive,
      start: z.number().min(0).default(0),
    })
    .strict(),
  z
    .object({
      /** Closed polygon whose corners are replaced by circular arcs of cornerRadius. */
      kind: z.literal('polygon'),
      points: z.array(Point).min(3),
      cornerRadius: Positive,
      width: Positive,
      start: z.number().min(0).default(0),
    })
    .strict(),
]);

const DistractorBase = {
  /** Absolute position, or placed beside the track: `along` metres of centreline, `offset` to the left (+) or right (-). */
  at: z.union([Point, z.object({ along: z.number().min(0), offset: z.number().finite() }).strict()]),
  yawDeg: z.number().finite().default(0),
  texture: TextureSchema,
};

export const DistractorSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('box'), size: z.tuple([Positive, Positive, Positive]), ...DistractorBase })
    .strict(),
  z.object({ kind: z.literal('cylinder'), radius: Positive, height: Positive, ...DistractorBase }).strict(),
  // Drawn as a vertical prism of its mean radius: the column renderer draws vertical surfaces.
  z.object({ kind: z.literal('cone'), radius: Positive, height: Positive, ...DistractorBase }).strict(),
  // A board on the floor facing along its yaw; thin, so only its face shows.
  z.object({ kind: z.literal('poster'), width: Positive, height: Positive, ...DistractorBase }).strict(),
]);
export type Distractor = z.output<typeof DistractorSchema>;

export const WorldSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected lower-case letters, digits and dashes'),
    description: z.string().default(''),
    environment: z.enum(['indoor', 'outdoor']),
    /** Held-out worlds are for evaluation only: never recorded for training. */
    heldOut: z.boolean().default(false),
    track: TrackSchema,
    walls: z
      .object({
        /** Distance from the centreline to each wall. */
        offset: Positive,
        height: Positive,
        texture: TextureSchema,
      })
      .strict(),
    floor: z
      .object({
        texture: TextureSchema,
        /** Surface of the lane band (|cte| <= width/2), e.g. asphalt through grass. */
        lane: TextureSchema.optional(),
      })
      .strict(),
    markings: z
      .object({
        centre: Marking.prefault({ style: 'none' }),
        edges: Marking.prefault({ style: 'none' }),
      })
      .strict(),
    lighting: z
      .object({
        ambient: Fraction,
        sun: z
          .object({
            azimuthDeg: z.number().finite(),
            elevationDeg: z.number().min(0).max(90),
            intensity: Fraction,
          })
          .strict(),
        /** Above the walls: sky outdoors, ceiling indoors (zenith and horizon colours). */
        sky: z.tuple([Colour, Colour]),
      })
      .strict(),
    distractors: z.array(DistractorSchema).default([]),
  })
  .strict();

/** A validated world (colours as [r, g, b], defaults filled in). */
export type World = z.output<typeof WorldSchema>;
export type WorldInput = z.input<typeof WorldSchema>;
