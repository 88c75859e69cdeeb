import path from 'node:path';
import { parseArgs } from 'node:util';
import { readWeightsFile, writeModelPackage } from '../src/files.ts';

const USAGE =
  'usage: fadnet export --weights FILE.safetensors --out DIR [--name NAME] [--version X.Y.Z] [--data DESC] [--rounds N]';

export async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      weights: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string', default: '0.1.0' },
      data: { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '0' },
    },
    strict: true,
  });
  if (values.weights === undefined || values.out === undefined) {
    console.error(USAGE);
    return 2;
  }
  const weights = await readWeightsFile(values.weights);
  const { manifestPath, manifest } = await writeModelPackage({
    dir: values.out,
    name: values.name ?? path.basename(values.weights).replace(/\.safetensors$/, ''),
    version: values.version,
    weights,
    provenance: { data: values.data, rounds: Number(values.rounds), date: new Date().toISOString() },
  });
  console.log(
    `wrote ${manifestPath} (onnx ${manifest.onnx.bytes} bytes, sha256 ${manifest.onnx.sha256.slice(0, 12)}…)`,
  );
  return 0;
}
