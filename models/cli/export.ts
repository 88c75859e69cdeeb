import path from 'node:path';
import { choiceArg, numberArg, parseCommandArgs, requiredArg, UsageError } from '../../common/index.ts';
import { readWeightsFile, writeModelPackage } from '../src/files.ts';
import { PlainFileName, SemanticVersion } from '../src/manifest.ts';
import { PRECISIONS, type PrecisionTarget } from '../src/quantize/index.ts';
import { FADNET_INPUT_SPEC } from '../src/input-spec.ts';
import { CALIBRATION_FLAGS, int8Target } from './quantize.ts';

const USAGE = `usage: fadnet export --weights FILE.safetensors --out DIR [--name NAME] [--version X.Y.Z] [--data DESC] [--rounds N]

  --weights FILE   FADNet weights (safetensors)
  --out DIR        folder for NAME.onnx, NAME.safetensors and NAME.manifest.json (created if missing)
  --name NAME      a plain file name (default: the weights file's name)
  --version X.Y.Z  semantic version written into the manifest (default 0.1.0)
  --data DESC      provenance: a data set the weights were trained on (repeatable)
  --rounds N       provenance: federated rounds behind the weights (default 0)
  --precision P    fp32 (default), fp16, or int8 (QDQ; needs the calibration flags of fadnet quantize:
                   --mcap F,.. | --sim-worlds W,.. [--samples N] [--method M] [--activations T] [--seed S])`;

/** A flag checked by the manifest's own field schema, so the CLI and the loader agree. */
export function manifestField(flag: string, text: string, schema: typeof PlainFileName): string {
  const parsed = schema.safeParse(text);
  if (!parsed.success)
    throw new UsageError(`${flag} must be ${parsed.error.issues[0]!.message}, got "${text}"`);
  return parsed.data;
}

export async function exportCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    weights: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string', default: '0.1.0' },
    data: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '0' },
    precision: { type: 'string', default: 'fp32' },
    ...CALIBRATION_FLAGS,
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parsed;
  const weightsFile = requiredArg('--weights', values.weights);
  const out = requiredArg('--out', values.out);
  const name = manifestField(
    '--name',
    values.name ?? path.basename(weightsFile).replace(/\.safetensors$/, ''),
    PlainFileName,
  );
  const version = manifestField('--version', values.version, SemanticVersion);
  const rounds = numberArg('--rounds', values.rounds, { integer: true, min: 0 });
  const precision = choiceArg('--precision', values.precision, PRECISIONS);
  const weights = await readWeightsFile(weightsFile);
  const target: PrecisionTarget =
    precision === 'int8' ? await int8Target(weights, FADNET_INPUT_SPEC, values) : { kind: precision };
  const { manifestPath, manifest } = await writeModelPackage({
    precision: target,
    dir: out,
    name,
    version,
    weights,
    provenance: {
      data: values.data,
      rounds,
      date: new Date().toISOString(),
      ...(precision === 'fp32' ? {} : { command: `fadnet export ${args.join(' ')}` }),
    },
  });
  console.log(
    `wrote ${manifestPath} (onnx ${manifest.onnx.bytes} bytes, sha256 ${manifest.onnx.sha256.slice(0, 12)}…)`,
  );
  return 0;
}
