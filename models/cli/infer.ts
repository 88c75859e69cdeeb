import { choiceArg, numberArg, parseCommandArgs, requiredArg } from '../../common/index.ts';
import { OnnxEngine } from '../src/engine/onnx-engine.ts';
import { TfjsEngine } from '../src/engine/tfjs-engine.ts';
import type { SteeringEngine } from '../src/engine/engine.ts';
import { readInputTensorFile, readWeightsFile } from '../src/files.ts';
import { exportFadnetOnnx } from '../src/onnx/export.ts';

const USAGE = `usage: fadnet infer --weights FILE.safetensors --tensor FILE.f32 [--engine onnx|tfjs] [--threads N] [--json]

  --weights FILE   FADNet weights (safetensors, PyTorch names)
  --tensor FILE    N x 1 x 200 x 200 little-endian float32 images
  --engine E       onnx (ONNX Runtime, default) or tfjs (the reference)
  --threads N      ONNX Runtime intra-op threads, 1 to 64 (default 1)
  --json           print one line {"outputs":[...]}`;

export async function inferCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    weights: { type: 'string' },
    tensor: { type: 'string' },
    engine: { type: 'string', default: 'onnx' },
    threads: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parsed;
  const weightsFile = requiredArg('--weights', values.weights);
  const tensorFile = requiredArg('--tensor', values.tensor);
  const engineName = choiceArg('--engine', values.engine, ['onnx', 'tfjs']);
  const threads = numberArg('--threads', values.threads, { integer: true, min: 1, max: 64 });
  const weights = await readWeightsFile(weightsFile);
  const { data, n } = await readInputTensorFile(tensorFile);
  // Diagnostics go to stderr so stdout stays one JSON line.
  const log = (line: string): void => console.error(line);
  const engine: SteeringEngine =
    engineName === 'onnx'
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
