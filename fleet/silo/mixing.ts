// The mixing rule: a silo's new model from its own local update and its peers' models. Every
// tensor is mixed, the batch-norm running statistics included, so a model's normalisation
// stays consistent with its weights. Pure.

import type { WeightSet } from '../../models/src/weights/weight-set.ts';
import { MixingError } from './errors.ts';

/**
 * `mean`: the planned weighted average (multigraph.md, 7). The robust rules treat every model
 * alike, weights ignored: a weighted median with the own model at 0.7 would always return the
 * own model. `median`: coordinate-wise median. `trimmed-mean`: per coordinate, drop the
 * floor(trim * n) largest and as many smallest values, average the rest.
 */
export type MixRule =
  | { readonly kind: 'mean' }
  | { readonly kind: 'median' }
  | { readonly kind: 'trimmed-mean'; readonly trim: number };

export const MIX_RULE_NAMES = ['mean', 'median', 'trimmed-mean'] as const;

export interface WeightedModel {
  readonly weights: WeightSet;
  readonly weight: number;
}

function checkSameTensors(models: readonly WeightedModel[]): WeightSet {
  const first = models[0]?.weights;
  if (first === undefined) throw new MixingError('nothing to mix: no models given');
  models.forEach((m, i) => {
    if (m.weights.size !== first.size) {
      throw new MixingError(`model ${i} has ${m.weights.size} tensors, model 0 has ${first.size}`);
    }
    for (const [name, values] of first) {
      const other = m.weights.get(name);
      if (other === undefined) throw new MixingError(`model ${i} lacks tensor ${name}`);
      if (other.length !== values.length) {
        throw new MixingError(
          `tensor ${name} has ${other.length} values in model ${i}, ${values.length} in model 0`,
        );
      }
    }
  });
  return first;
}

/** Sum of w_i * x_i per coordinate, accumulated in float64 and stored as float32. */
function weightedMean(models: readonly WeightedModel[], first: WeightSet): WeightSet {
  const total = models.reduce((sum, m) => sum + m.weight, 0);
  if (models.some((m) => !(m.weight >= 0)) || Math.abs(total - 1) > 1e-9) {
    throw new MixingError(
      `mixing weights must be >= 0 and sum to 1, got ${models.map((m) => m.weight).join(', ')}`,
    );
  }
  const out = new Map<string, Float32Array>();
  for (const [name, values] of first) {
    const acc = new Float64Array(values.length);
    for (const m of models) {
      const x = m.weights.get(name)!;
      const w = m.weight;
      for (let j = 0; j < acc.length; j++) acc[j]! += w * x[j]!;
    }
    out.set(name, Float32Array.from(acc));
  }
  return out;
}

function robust(models: readonly WeightedModel[], first: WeightSet, trim: number): WeightSet {
  const n = models.length;
  const cut = Math.floor(trim * n);
  const column = new Float64Array(n);
  const out = new Map<string, Float32Array>();
  for (const [name, values] of first) {
    const sources = models.map((m) => m.weights.get(name)!);
    const mixed = new Float32Array(values.length);
    for (let j = 0; j < values.length; j++) {
      for (let i = 0; i < n; i++) column[i] = sources[i]![j]!;
      column.sort();
      if (trim < 0) {
        // Median: the middle value, or the mean of the two middle values.
        const mid = n >> 1;
        mixed[j] = n % 2 === 1 ? column[mid]! : (column[mid - 1]! + column[mid]!) / 2;
      } else {
        let sum = 0;
        for (let i = cut; i < n - cut; i++) sum += column[i]!;
        mixed[j] = sum / (n - 2 * cut);
      }
    }
    out.set(name, mixed);
  }
  return out;
}

/** Mixes the models by `rule`; models[0] is conventionally the silo's own. Inputs are not modified. */
export function mixModels(models: readonly WeightedModel[], rule: MixRule = { kind: 'mean' }): WeightSet {
  const first = checkSameTensors(models);
  switch (rule.kind) {
    case 'mean':
      return weightedMean(models, first);
    case 'median':
      return robust(models, first, -1);
    case 'trimmed-mean':
      if (!(rule.trim >= 0 && rule.trim < 0.5)) {
        throw new MixingError(`trimmed-mean trim must be in [0, 0.5), got ${rule.trim}`);
      }
      return robust(models, first, rule.trim);
  }
}

/** Parses `mean`, `median` or `trimmed-mean[:T]` (T the share trimmed at each end, default 0.2). */
export function parseMixRule(text: string): MixRule {
  if (text === 'mean' || text === 'median') return { kind: text };
  const match = /^trimmed-mean(?::(\d*\.?\d+))?$/.exec(text);
  if (match !== null) {
    const trim = match[1] === undefined ? 0.2 : Number(match[1]);
    if (!(trim >= 0 && trim < 0.5))
      throw new MixingError(`trimmed-mean trim must be in [0, 0.5), got ${match[1]}`);
    return { kind: 'trimmed-mean', trim };
  }
  throw new MixingError(`mixing rule must be mean, median or trimmed-mean[:T], got "${text}"`);
}
