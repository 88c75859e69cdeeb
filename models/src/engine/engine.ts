// The steering engine interface every runtime implements (ONNX Runtime on the robot, TF.js for
// training-side checks), so nodes and tests are written once against it.
import { z } from 'zod';
import type { FrameSize } from '../fadnet/geometry.ts';

export interface SteeringEngine {
  /** Which runtime and device actually run, e.g. "onnxruntime cpu, 1 thread". */
  readonly description: string;
  /** N x 1 x H x W float32 in (H x W the model's input size), N steering values out. */
  run(batch: Float32Array, n: number): Promise<Float32Array>;
  /** Batch-1 low-latency path: one preprocessed frame in, its steering value out. */
  runOne(frame: Float32Array): Promise<number>;
  dispose(): Promise<void>;
}

export const EXECUTION_PROVIDERS = ['tensorrt', 'cuda', 'qnn', 'coreml', 'dml', 'webgpu', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

export const EngineConfigSchema = z
  .object({
    /** Tried in order; the first that starts is used. */
    executionProviders: z.array(z.enum(EXECUTION_PROVIDERS)).min(1).default(['cpu']),
    intraOpThreads: z.number().int().min(1).max(64).default(1),
    warmupRuns: z.number().int().min(0).max(1000).default(10),
    /** Per provider, ONNX Runtime's own option names and values (e.g. tensorrt: trt_fp16_enable). */
    providerOptions: z
      .partialRecord(
        z.enum(EXECUTION_PROVIDERS),
        z.record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()])),
      )
      .default({}),
  })
  .strict();

export type EngineConfig = z.infer<typeof EngineConfigSchema>;
export type EngineConfigInput = z.input<typeof EngineConfigSchema>;

/** Says what is wrong when `batch` is not n frames of `size`. */
export function checkBatch(batch: Float32Array, n: number, size: FrameSize): string | undefined {
  if (Number.isInteger(n) && n >= 1 && batch.length === n * size.height * size.width) return undefined;
  return `batch of ${batch.length} values is not ${n} x 1 x ${size.height} x ${size.width}`;
}
