// Data-parallel replicas against one replica: the same gradients, loss and BN running
// statistics for the same batch, because batch norm is synchronised across replicas.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FadnetTfjs } from '../../models/src/fadnet/tfjs-model.ts';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { wasmTrainingOps } from '../../models/src/tfjs/training/ops.ts';
import { FADNET_INPUT_SPEC } from '../../models/src/input-spec.ts';
import { frameValues } from '../../models/src/train/dataset.ts';
import { MASK_VALUES, sliceSizes } from '../../models/src/train/replica-step.ts';
import {
  defaultReplicas,
  LocalGradients,
  ReplicaGroup,
  type StepGradients,
} from '../../models/src/train/replicas.ts';
import { weightsFromSafetensors } from '../../models/src/weights/weight-set.ts';
import { maxAbs, relDiff } from '../helpers/compare.ts';
import { loadFixture } from '../helpers/fixture.ts';

const fx = loadFixture();
/** The fixture's images are of the default input size. */
const FRAME_VALUES = frameValues(FADNET_INPUT_SPEC);
let model: FadnetTfjs;

beforeAll(async () => {
  await initTfjs({ order: ['wasm'], log: () => {} });
  model = FadnetTfjs.create(weightsFromSafetensors(fx.weightsBytes), wasmTrainingOps());
});
afterAll(() => model.dispose());

/** The fixture's 4 images and a fifth (the first, negated), so 2 replicas get 3 and 2. */
function fixtureBatch(): { x: Float32Array; y: Float32Array; mask: Float32Array } {
  const n = 5;
  const x = new Float32Array(n * FRAME_VALUES);
  x.set(fx.inputs.subarray(0, 4 * FRAME_VALUES));
  x.set(
    fx.inputs.subarray(0, FRAME_VALUES).map((v) => -v),
    4 * FRAME_VALUES,
  );
  const y = new Float32Array([0.25, -0.5, 0.75, 0.1, -0.3]);
  const mask = new Float32Array(n * MASK_VALUES).map((_, i) => ((i * 7 + 3) % 5 < 3 ? 1 : 0));
  return { x, y, mask };
}

/** The loss, each parameter's gradient (as float32) and the running updates of one step. */
function read(
  g: StepGradients,
  params: readonly tf.Variable[],
): {
  loss: number;
  grads: Float32Array[];
  updates: Map<string, Float32Array>;
} {
  let at = 0;
  const grads = params.map((p) => Float32Array.from(g.grads.subarray(at, (at += p.size))));
  expect(at).toBe(g.grads.length);
  const updates = new Map([...g.runningUpdates].map(([k, t]) => [k, t.dataSync() as Float32Array]));
  tf.dispose([...g.runningUpdates.values()]);
  return { loss: g.loss, grads, updates };
}

describe('data-parallel replicas', () => {
  it('split a batch into contiguous slices, the first taking the remainder', () => {
    expect(sliceSizes(32, 2)).toEqual([16, 16]);
    expect(sliceSizes(5, 2)).toEqual([3, 2]);
    expect(sliceSizes(32, 3)).toEqual([11, 11, 10]);
    expect(defaultReplicas('wasm', 2)).toBe(2);
    expect(defaultReplicas('wasm', 1)).toBe(1);
    expect(defaultReplicas('tensorflow', 8)).toBe(1);
  });

  it('2 replicas give the gradients, loss and BN running statistics of 1 (fixture weights)', async () => {
    const params = model.trainableVariables();
    const batch = fixtureBatch();
    const one = read(await new LocalGradients(model, params, FADNET_INPUT_SPEC).compute(batch), params);
    const group = await ReplicaGroup.start({
      model,
      params,
      batchSize: 5,
      input: FADNET_INPUT_SPEC,
      replicas: 2,
      backend: 'wasm',
    });
    let two;
    try {
      two = read(await group.compute(batch), params);
      // A second step reuses the shared buffers and the all-reduce slots.
      const again = read(await group.compute(batch), params);
      expect(again.loss).toBe(two.loss);
    } finally {
      await group.close();
    }
    expect(Math.abs(two.loss - one.loss) / one.loss).toBeLessThan(1e-5);
    expect(two.grads).toHaveLength(42);
    params.forEach((p, i) => {
      const name = p.name.slice(p.name.indexOf('/') + 1);
      // A conv bias feeding a training-mode batch norm has a gradient of exactly zero; measure
      // its rounding noise against the same layer's weight gradient (as gradients.test.ts does).
      const beforeNorm = /^res_block\d\.conv2d\.bias$/.test(name);
      const scale = beforeNorm ? maxAbs(one.grads[i - 1]!) : maxAbs(one.grads[i]!);
      expect(relDiff(two.grads[i]!, one.grads[i]!, scale), name).toBeLessThan(1e-4);
    });
    expect([...two.updates.keys()].sort()).toEqual([...one.updates.keys()].sort());
    expect(one.updates.size).toBe(12);
    for (const [name, values] of one.updates) {
      expect(relDiff(two.updates.get(name)!, values), name).toBeLessThan(1e-4);
    }
  }, 60_000);

  it('refuse a step once closed', async () => {
    const params = model.trainableVariables();
    const group = await ReplicaGroup.start({
      model,
      params,
      batchSize: 5,
      input: FADNET_INPUT_SPEC,
      replicas: 2,
      backend: 'wasm',
    });
    await group.close();
    await expect(group.compute(fixtureBatch())).rejects.toThrow(
      'the replica group stopped after an earlier failure',
    );
  });
});
