// One suite, run against every SteeringEngine implementation.
import { beforeAll, describe, expect, it } from 'vitest';
import type { SteeringEngine } from '../../models/src/engine/engine.ts';
import { OnnxEngine } from '../../models/src/engine/onnx-engine.ts';
import { TfjsEngine } from '../../models/src/engine/tfjs-engine.ts';
import { InferenceError } from '../../models/src/errors.ts';
import { exportFadnetOnnx } from '../../models/src/onnx/export.ts';
import { weightsFromSafetensors, type WeightSet } from '../../models/src/weights/weight-set.ts';
import { loadFixture, type Fixture } from '../helpers/fixture.ts';

let fx: Fixture;
let weights: WeightSet;
beforeAll(() => {
  fx = loadFixture();
  weights = weightsFromSafetensors(fx.weightsBytes);
});

const implementations: [string, () => Promise<SteeringEngine>][] = [
  [
    'onnx',
    () => OnnxEngine.create({ onnx: exportFadnetOnnx(weights), config: { warmupRuns: 2 }, log: () => {} }),
  ],
  ['tfjs', () => TfjsEngine.create({ weights, log: () => {} })],
];

describe.each(implementations)('SteeringEngine contract: %s', (_name, make) => {
  it('runs a batch and reproduces the fixture', async () => {
    const engine = await make();
    const out = await engine.run(fx.inputs, 4);
    expect(out.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(Math.abs(out[i]! - fx.outputs[i]!)).toBeLessThan(2e-5);
    await engine.dispose();
  });

  it('batch-1 path matches the batch path', async () => {
    const engine = await make();
    const one = await engine.runOne(fx.inputs.subarray(2 * 40000, 3 * 40000));
    expect(Math.abs(one - fx.outputs[2]!)).toBeLessThan(2e-5);
    await engine.dispose();
  });

  it('rejects a wrongly sized input with a typed error', async () => {
    const engine = await make();
    await expect(engine.run(new Float32Array(100), 1)).rejects.toThrow(
      new InferenceError('batch of 100 values is not 1 x 1 x 200 x 200'),
    );
    await expect(engine.runOne(new Float32Array(39999))).rejects.toThrow(
      'frame has 39999 values, expected 40000',
    );
    await engine.dispose();
  });
});

describe('execution-provider fallback', () => {
  it('falls back in order and says in one line what runs', async () => {
    const lines: string[] = [];
    const engine = await OnnxEngine.create({
      onnx: exportFadnetOnnx(weights),
      config: { executionProviders: ['tensorrt', 'qnn', 'cpu'], intraOpThreads: 1, warmupRuns: 0 },
      log: (l) => lines.push(l),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^inference: onnxruntime cpu, 1 intra-op thread \(unavailable: tensorrt: .+; qnn: .+\)$/,
    );
    expect(engine.description).toBe('onnxruntime cpu, 1 intra-op thread');
    await engine.dispose();
  });

  it('fails with the reasons when no provider starts', async () => {
    await expect(
      OnnxEngine.create({
        onnx: exportFadnetOnnx(weights),
        config: { executionProviders: ['qnn'] },
        log: () => {},
      }),
    ).rejects.toThrow(/^no execution provider could start the model \(qnn: /);
  });

  it('rejects an invalid configuration before starting anything', async () => {
    await expect(
      OnnxEngine.create({ onnx: new Uint8Array(), config: { intraOpThreads: 0 }, log: () => {} }),
    ).rejects.toThrow(/intraOpThreads/);
  });
});
