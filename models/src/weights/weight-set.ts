// A validated FADNet weight set. Everything that can go wrong with a file or a peer's update is
// checked here, before any model sees it, so a failed load never half-applies.
import { WeightError } from '../errors.ts';
import { decodeSafetensors, encodeSafetensors, type StoredDtype } from './safetensors.ts';
import { FADNET_PARAMS, FADNET_PARAM_BY_NAME, sizeOf } from './spec.ts';
import { mulberry32 } from '../../../common/index.ts';

/** Tensor name -> float32 values in PyTorch layout. Always holds exactly FADNET_PARAMS. */
export type WeightSet = ReadonlyMap<string, Float32Array>;

/** A tensor with its shape, or bare values whose shape is taken to be the canonical one. */
export type TensorLike = Float32Array | { readonly shape: readonly number[]; readonly data: Float32Array };

/**
 * Checks names, shapes and values against FADNET_PARAMS and returns a private copy; throws
 * WeightError naming the first offending tensor. Nothing is returned half-checked.
 */
export function validateWeights(tensors: ReadonlyMap<string, TensorLike>): WeightSet {
  for (const name of tensors.keys()) {
    if (!FADNET_PARAM_BY_NAME.has(name)) {
      throw new WeightError(`unexpected tensor ${name}: FADNet has no such parameter`, name);
    }
  }
  const out = new Map<string, Float32Array>();
  for (const spec of FADNET_PARAMS) {
    const raw = tensors.get(spec.name);
    if (raw === undefined) throw new WeightError(`tensor ${spec.name} is missing`, spec.name);
    const t = raw instanceof Float32Array ? { shape: spec.shape, data: raw } : raw;
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      throw new WeightError(
        `tensor ${spec.name} has shape [${t.shape.join(',')}], expected [${spec.shape.join(',')}]`,
        spec.name,
      );
    }
    if (t.data.length !== sizeOf(spec.shape)) {
      throw new WeightError(
        `tensor ${spec.name} has ${t.data.length} values, expected ${sizeOf(spec.shape)}`,
        spec.name,
      );
    }
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i]!;
      if (!Number.isFinite(v)) {
        throw new WeightError(`tensor ${spec.name} has a non-finite value ${v} at index ${i}`, spec.name);
      }
    }
    if (spec.kind === 'running_var' && t.data.some((v) => v < 0)) {
      throw new WeightError(`tensor ${spec.name} has a negative variance`, spec.name);
    }
    out.set(spec.name, Float32Array.from(t.data));
  }
  return out;
}

export function weightsFromSafetensors(bytes: Uint8Array): WeightSet {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    throw new WeightError(`cannot read weights: ${(error as Error).message}`, undefined, { cause: error });
  }
  return validateWeights(decoded.tensors);
}

export function weightsToSafetensors(
  weights: WeightSet,
  options: { dtype?: StoredDtype; metadata?: Record<string, string> } = {},
): Uint8Array {
  return encodeSafetensors(
    FADNET_PARAMS.map((p) => [p.name, { shape: p.shape, data: weights.get(p.name)! }] as const),
    options,
  );
}

/** Seeded He-style initialisation (PyTorch-like defaults) for training from scratch. */
export function initialWeights(seed: number): WeightSet {
  const rand = mulberry32(seed);
  const out = new Map<string, Float32Array>();
  for (const spec of FADNET_PARAMS) {
    const data = new Float32Array(sizeOf(spec.shape));
    const isBn = spec.name.includes('batch_norm');
    if (spec.kind === 'running_var' || (isBn && spec.name.endsWith('.weight'))) data.fill(1);
    else if (!isBn && spec.kind === 'trainable') {
      // PyTorch's default for conv and linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
      const weightShape = FADNET_PARAM_BY_NAME.get(spec.name.replace(/\.bias$/, '.weight'))!.shape;
      const fanIn = sizeOf(weightShape.slice(1));
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < data.length; i++) data[i] = (rand() * 2 - 1) * bound;
    }
    out.set(spec.name, data);
  }
  return out;
}
