import { z } from 'zod';

// The preprocessing a model was trained with, carried as data in its manifest so that a model
// update can never silently change how frames are prepared.
export const InputSpecSchema = z
  .object({
    /** Tensor layout the model consumes. */
    layout: z.literal('NCHW'),
    /** Model input size after crop (pixels). */
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    /** Grey from colour: weights on R, G, B (ITU-R BT.601 by default). */
    colour: z.object({
      kind: z.literal('grey'),
      weights: z.tuple([z.number(), z.number(), z.number()]),
    }),
    /** Resize of the whole frame before the crop; bilinear with half-pixel centres (OpenCV INTER_LINEAR). */
    resize: z.object({
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      interpolation: z.literal('bilinear'),
    }),
    /** Crop taken from the resized frame. */
    crop: z.object({
      kind: z.literal('center'),
      width: z.number().int().positive(),
      height: z.number().int().positive(),
    }),
    /** value = grey * scale + offset, grey in [0, 255]. */
    scaling: z.object({ scale: z.number(), offset: z.number() }),
  })
  .strict()
  .refine((s) => s.crop.width <= s.resize.width && s.crop.height <= s.resize.height, {
    message: 'crop must fit inside the resized frame',
  })
  .refine((s) => s.crop.width === s.width && s.crop.height === s.height, {
    message: 'crop size must equal the model input size',
  });

export type InputSpec = z.infer<typeof InputSpecSchema>;

/** The DroNet-style pipeline FADNet was defined with (docs/fadnet.md, "Input contract"). */
export const FADNET_INPUT_SPEC: InputSpec = {
  layout: 'NCHW',
  width: 200,
  height: 200,
  colour: { kind: 'grey', weights: [0.299, 0.587, 0.114] },
  resize: { width: 320, height: 240, interpolation: 'bilinear' },
  crop: { kind: 'center', width: 200, height: 200 },
  scaling: { scale: 1 / 127.5, offset: -1 },
};
