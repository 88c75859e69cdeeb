// The one entry point that installs the WebAssembly training kernels: the new heap kernels, the
// replacements of stock wasm kernels and the Conv2D and MaxPool gradients. Only training calls
// it (through wasmTrainingOps in ops.ts); inference on wasm runs tfjs's stock kernels.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
// The stock kernels replaced below must be registered before they can be read back.
import '@tensorflow/tfjs-backend-wasm';
import { batchNormKernels } from './batch-norm-kernels.ts';
import { gemmKernel } from './gemm-kernel.ts';
import { gradientKernels } from './gradient-kernels.ts';
import { gradientConfigs } from './gradients.ts';
import { maxPoolTapsKernels } from './max-pool-taps.ts';
import { stockOverrides } from './stock-overrides.ts';

let registered = false;

/** Whether registerWasmTrainingKernels has run in this thread. */
export function wasmTrainingKernelsRegistered(): boolean {
  return registered;
}

/** Installs every wasm training kernel and gradient, once per thread (later calls do nothing). */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const stock = (kernelName: string): KernelConfig => {
    const config = tf.getKernel(kernelName, 'wasm');
    if (config === undefined) throw new Error(`wasm backend has no ${kernelName} kernel`);
    return config;
  };
  // Every original is read before any is replaced, so each replacement falls back to tfjs's own.
  const pool = maxPoolTapsKernels(stock('MaxPool'));
  const replacements = [...stockOverrides(stock), pool.replacement];
  const added = [...gradientKernels(), ...batchNormKernels(), gemmKernel(), pool.added];
  for (const config of replacements) tf.unregisterKernel(config.kernelName, 'wasm');
  for (const config of [...replacements, ...added]) tf.registerKernel(config);
  for (const config of gradientConfigs()) {
    // Unregistered first: registerGradient warns on the console when it replaces one.
    if (tf.getGradient(config.kernelName) !== undefined) tf.unregisterGradient(config.kernelName);
    tf.registerGradient(config);
  }
  registered = true;
}
