// FADNet computes its layers with the op set it is given, and inference on the WebAssembly
// backend runs stock kernels only: the training kernels are installed by asking for the wasm
// training op set, once, without touching the console.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TfjsEngine } from '../../models/src/engine/tfjs-engine.ts';
import { TFJS_OPS, type FadnetOps } from '../../models/src/fadnet/ops.ts';
import { FadnetTfjs } from '../../models/src/fadnet/tfjs-model.ts';
import { wasmTrainingOps } from '../../models/src/tfjs/training/ops.ts';
import { wasmTrainingKernelsRegistered } from '../../models/src/tfjs/training/register.ts';
import { initialWeights } from '../../models/src/weights/weight-set.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';

const FRAME = FADNET_INPUT_SPEC.height * FADNET_INPUT_SPEC.width;

/** Kernels only the training set installs. */
function trainingKernelsPresent(): Record<string, boolean> {
  const names = ['FadnetGemm', 'FadnetIm2ColT', 'FadnetBnChannelSums', 'FadnetMaxPoolGradTaps'];
  return Object.fromEntries(names.map((n) => [n, tf.getKernel(n, 'wasm') !== undefined]));
}

/** The stock kernels the training set replaces. */
const REPLACED = ['Identity', 'Sum', 'Mean', 'FusedConv2D', 'MaxPool'];

function kernelFuncs(): unknown[] {
  return REPLACED.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('op sets', () => {
  it('inference on wasm loads no training kernel; the training op set installs them once, quietly', async () => {
    const engine = await TfjsEngine.create({ weights: initialWeights(3), backends: ['wasm'], log: () => {} });
    try {
      expect(engine.description).toBe('tfjs wasm');
      const out = await engine.runOne(new Float32Array(FRAME).fill(0.25));
      expect(Number.isFinite(out)).toBe(true);
      expect(wasmTrainingKernelsRegistered()).toBe(false);
      expect(trainingKernelsPresent()).toEqual({
        FadnetGemm: false,
        FadnetIm2ColT: false,
        FadnetBnChannelSums: false,
        FadnetMaxPoolGradTaps: false,
      });
      const stock = kernelFuncs();
      expect(stock.every((f) => typeof f === 'function')).toBe(true);

      const warn = console.warn;
      const spy = vi.spyOn(console, 'warn');
      const ops = wasmTrainingOps();
      expect(wasmTrainingOps()).toBe(ops);
      expect(ops.name).toBe('wasm-training');
      expect(wasmTrainingKernelsRegistered()).toBe(true);
      expect(trainingKernelsPresent()).toEqual({
        FadnetGemm: true,
        FadnetIm2ColT: true,
        FadnetBnChannelSums: true,
        FadnetMaxPoolGradTaps: true,
      });
      const replaced = kernelFuncs();
      REPLACED.forEach((name, i) => expect(replaced[i], name).not.toBe(stock[i]));
      // The gradients were replaced without a "gradient overwritten" warning, and the console
      // is the one it was.
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
      expect(console.warn).toBe(warn);
    } finally {
      await engine.dispose();
    }
  }, 60_000);

  it('the model computes every convolution and training batch norm with the injected ops', () => {
    const calls = { convBias: 0, batchNormRelu: 0 };
    const counting: FadnetOps = {
      name: 'counting',
      convBias: (...args) => {
        calls.convBias += 1;
        return TFJS_OPS.convBias(...args);
      },
      batchNormRelu: (...args) => {
        calls.batchNormRelu += 1;
        return TFJS_OPS.batchNormRelu(...args);
      },
    };
    const model = FadnetTfjs.create(initialWeights(4), counting);
    try {
      expect(model.ops).toBe(counting);
      tf.tidy(() => {
        const x = tf.zeros([1, 1, FADNET_INPUT_SPEC.height, FADNET_INPUT_SPEC.width]);
        model.predict(x);
        // 4 trunk convolutions, 3 support convolutions, 2 in each of 3 residual blocks.
        expect(calls).toEqual({ convBias: 13, batchNormRelu: 0 });
        const r = model.forward(x, { training: true, dropoutMask: tf.ones([1, 128]) as tf.Tensor2D });
        tf.dispose([...r.runningUpdates.values()]);
        expect(calls).toEqual({ convBias: 26, batchNormRelu: 6 });
      });
    } finally {
      model.dispose();
    }
  });
});
