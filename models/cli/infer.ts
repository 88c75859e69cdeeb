import { parseArgs } from 'node:util';
import { OnnxEngine } from '../src/engine/onnx-engine.ts';
import { TfjsEngine } from '../src/engine/tfjs-engine.ts';
import type { SteeringEngine } from '../src/engine/engine.ts';
import { readInputTensorFile, readWeightsFile } from '../src/files.ts';
import { exportFadnetOnnx } from '../src/onnx/export.ts';

const USAGE =
  'usage: fadnet infer --weights FILE.safetensors --tensor FILE.f32 [--engine onnx|tfjs] [--threads N] [--json]';

export async function inferCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      weights: { type: 'string' },
      tensor: { type: 'string' },
      engine: { type: 'string', default: 'onnx' },
      threads: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.weights === undefined || values.tensor === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (values.engine !== 'onnx' && values.engine !== 'tfjs') {
    console.error(`fadnet infer: --engine must be onnx or tfjs, got "${values.engine}"\n${USAGE}`);
    return 2;
  }
  const threads = Number(values.threads);
  const weights = await readWeightsFile(values.weights);
  const { data, n } = await readInputTensorFile(values.tensor);
  // Diagnostics go to stderr so stdout stays one JSON line.
  const log = (line: string): void => console.error(line);
  const engine: SteeringEngine =
    values.engine === 'onnx'
      ? await OnnxEngine.create({
          onnx: exportFadnetOnnx(weights),
          config: { intraOpThreads: threads, warmupRuns: 0 },
          log,
        })
      : await TfjsEngine.create({ weights, log });
  try {
    const outputs = Array.from(await engine.run(data, n));
    if (values.json) console.log(JSON.stringify({ outputs }));
    else outputs.forEach((v, i) => console.log(`image ${i}: steering ${v.toFixed(6)}`));
  } finally {
    await engine.dispose();
  }
  return 0;
}
