// What the main thread and a replica worker say to each other. The worker is started with
// ReplicaInit as its workerData; after that each step is one message each way. Bulk data
// (weights, the slice of the batch, the all-reduce slots) lives in shared memory; the
// messages only say when it is ready. Both sides validate what they receive.
import { z } from 'zod';
import type { FrameSize } from '../fadnet/geometry.ts';
import { frameValues } from './dataset.ts';
import { MASK_VALUES } from './replica-step.ts';

const sharedBuffer = z.custom<SharedArrayBuffer>(
  (v) => v instanceof SharedArrayBuffer,
  'a SharedArrayBuffer',
);

export const ReplicaInitSchema = z
  .object({
    rank: z.number().int().positive(),
    backend: z.enum(['tensorflow', 'wasm', 'cpu']),
    batchSize: z.number().int().positive(),
    sliceSize: z.number().int().positive(),
    /** Each frame's size: the training dataset's, so the worker shapes its slice as the main thread does. */
    input: z.object({ height: z.number().int().positive(), width: z.number().int().positive() }).strict(),
    timeoutMs: z.number().positive(),
    allReduce: z.object({
      buffer: sharedBuffer,
      ranks: z.number().int().min(2),
      capacity: z.number().int().positive(),
    }),
    /** The trainable parameters in tfjs layout, end to end, written by the main thread. */
    weights: sharedBuffer,
    /** This replica's x, y and dropout mask (see inputViews). */
    inputs: sharedBuffer,
  })
  .strict();

export type ReplicaInit = z.infer<typeof ReplicaInitSchema>;

export const ToReplicaSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('step'), step: z.number().int().nonnegative() }).strict(),
]);

export type ToReplica = z.infer<typeof ToReplicaSchema>;

const errorInfo = z.object({ name: z.string(), message: z.string(), stack: z.string().optional() }).strict();

export const FromReplicaSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }).strict(),
  z.object({ type: z.literal('done'), step: z.number().int().nonnegative() }).strict(),
  z.object({ type: z.literal('failed'), step: z.number().int().nonnegative(), error: errorInfo }).strict(),
]);

export type FromReplica = z.infer<typeof FromReplicaSchema>;

export function errorInfoOf(error: unknown): z.infer<typeof errorInfo> {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** The error a worker reported, rebuilt on this side of the thread boundary. */
export function errorFromInfo(info: z.infer<typeof errorInfo>): Error {
  const error = new Error(info.message);
  error.name = info.name;
  if (info.stack !== undefined) error.stack = info.stack;
  return error;
}

/** Bytes of one replica's input buffer for a slice of n samples of frames of `input` pixels. */
export function inputBytes(n: number, input: FrameSize): number {
  return n * (frameValues(input) + 1 + MASK_VALUES) * 4;
}

/** x, y and mask of a slice of n samples inside one replica's input buffer. */
export function inputViews(
  buffer: SharedArrayBuffer,
  n: number,
  input: FrameSize,
): { x: Float32Array; y: Float32Array; mask: Float32Array } {
  const x = new Float32Array(buffer, 0, n * frameValues(input));
  const y = new Float32Array(buffer, x.byteLength, n);
  const mask = new Float32Array(buffer, x.byteLength + y.byteLength, n * MASK_VALUES);
  return { x, y, mask };
}
