// Benchmark: one FADNet training step (batch 32, MSE, gradients of every trainable variable,
// running statistics applied) on the chosen backend. Prints wall and process CPU time per step
// (median and minimum after two warm-up steps) and the live tensor count, which must not grow.
// CPU time is the steadier figure on a shared machine.
//
//   node --import tsx models/src/tfjs/train-step-bench.ts [steps=9] [wasm|cpu]
import * as tf from '@tensorflow/tfjs-core';
import { FadnetTfjs } from '../fadnet/tfjs-model.ts';
import { initialWeights } from '../weights/weight-set.ts';
import { initTfjs, type BackendName } from './backend.ts';

const steps = Number(process.argv[2] ?? 9);
const backend = (process.argv[3] ?? 'wasm') as BackendName;
await initTfjs({ order: [backend], log: () => {} });

const batch = 32;
const model = FadnetTfjs.create(initialWeights(1));
const x = tf.randomUniform([batch, 1, 200, 200], -1, 1, 'float32', 7);
const target = tf.randomUniform([batch, 1], -1, 1, 'float32', 8);
const dropoutMask = tf.tensor2d(new Float32Array(batch * 128).fill(1), [batch, 128]);

const wall: number[] = [];
const cpu: number[] = [];
const tensors: number[] = [];
for (let i = 0; i < steps + 2; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let updates: ReadonlyMap<string, tf.Tensor1D> = new Map();
  const { value, grads } = tf.variableGrads(() => {
    const r = model.forward(x, { training: true, dropoutMask });
    updates = r.runningUpdates;
    return tf.losses.meanSquaredError(target, r.output) as tf.Scalar;
  }, model.trainableVariables());
  value.dataSync();
  for (const g of Object.values(grads)) g.dataSync();
  model.applyRunningUpdates(updates);
  tf.dispose([...updates.values(), ...Object.values(grads), value]);
  if (i >= 2) {
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  tensors.push(tf.memory().numTensors);
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const fmt = (v: number): string => v.toFixed(0);
console.log(
  `${backend} step ms: wall median ${fmt(median(wall))} min ${fmt(Math.min(...wall))}, ` +
    `cpu median ${fmt(median(cpu))} min ${fmt(Math.min(...cpu))}; tensors after each step ${tensors.join(',')}`,
);
