// From the steering node's parameters to what the inference engine needs for an accelerator:
// the package precision the robot expects (checked against the manifest) and each execution
// provider's options, passed through under ONNX Runtime's own names. A parameter named
// `<provider>.<option>` is that provider's option; an empty string leaves ORT's default.
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../models/src/engine/engine.ts';
import type { ProviderOptions, ProviderOptionValue } from '../../models/src/engine/providers.ts';
import type { ModelManifest } from '../../models/src/manifest.ts';
import { precisionOf, type Precision } from '../../models/src/quantize/precision.ts';
import { ParameterError } from '../runtime/index.ts';

export function providerOptionsFrom(
  params: Readonly<Record<string, unknown>>,
): Partial<Record<ExecutionProvider, ProviderOptions>> {
  const out: Partial<Record<ExecutionProvider, Record<string, ProviderOptionValue>>> = {};
  for (const [name, value] of Object.entries(params)) {
    const dot = name.indexOf('.');
    if (dot < 0) continue;
    const ep = name.slice(0, dot);
    if (!(EXECUTION_PROVIDERS as readonly string[]).includes(ep)) continue;
    if (
      value === '' ||
      !(typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    )
      continue;
    (out[ep as ExecutionProvider] ??= {})[name.slice(dot + 1)] = value;
  }
  return out;
}

/**
 * The manifest's precision, refused when the parameters expect another: a robot configured for
 * the int8 package must not start on a float32 one by a wrong path.
 */
export function checkedPrecision(expected: string, manifest: ModelManifest, node: string): Precision {
  const actual = precisionOf(manifest);
  if (expected !== '' && expected !== actual) {
    throw new ParameterError(
      `parameter model_precision of node ${node} is ${expected}, but model ${manifest.name}@${manifest.version} is ${actual}`,
      node,
      'model_precision',
    );
  }
  return actual;
}
