// What a model package's manifest says about its numbers: the precision its graph computes in,
// how it was quantized and from which calibration data. A manifest without it predates
// precisions and is float32.
import { z } from 'zod';
import { ACTIVATION_TYPES } from './qdq.ts';
import { CALIBRATION_METHODS } from './ranges.ts';

export const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** Every package's graph takes and gives float32, whatever it computes in. */
const Io = z.literal('float32');

export const CalibrationSchema = z
  .object({
    method: z.enum(CALIBRATION_METHODS),
    /** Frames the ranges were computed from, after the manifest's preprocessing. */
    samples: z.number().int().positive(),
    /** Where the frames came from (worlds and seed, or recording files). */
    data: z.array(z.string().min(1)).min(1),
  })
  .strict();

export const PrecisionSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fp32'), io: Io }).strict(),
  z.object({ kind: z.literal('fp16'), io: Io, compute: z.literal('float16') }).strict(),
  z
    .object({
      kind: z.literal('int8'),
      io: Io,
      quantization: z
        .object({
          format: z.literal('QDQ'),
          weights: z.literal('int8 symmetric per-channel'),
          activations: z.enum(ACTIVATION_TYPES),
          activationScheme: z.enum(['asymmetric per-tensor', 'symmetric per-tensor']),
          bias: z.literal('int32'),
          /** Which operators sit between QuantizeLinear/DequantizeLinear pairs. */
          ops: z.array(z.string()).min(1),
        })
        .strict(),
      calibration: CalibrationSchema,
    })
    .strict(),
]);

export type PrecisionSpec = z.infer<typeof PrecisionSpecSchema>;
export type Calibration = z.infer<typeof CalibrationSchema>;

/** The precision a manifest declares; float32 when it declares none. */
export function precisionOf(manifest: { readonly precision?: PrecisionSpec | undefined }): Precision {
  return manifest.precision?.kind ?? 'fp32';
}
