// A fleet from measurements, as a live fleet reports them: per-pair latency and bandwidth,
// per-silo compute time and access capacities. Validated by schema at the boundary; the
// result is the same `Fleet` a network file gives, so every planner step works on either.

import { z } from 'zod';

import { MeasurementsError } from './errors.ts';
import { validateWorkload } from './fleet.ts';
import type { Fleet, Workload } from './fleet.ts';

const positive = z.number().finite().positive();

const siloSchema = z.strictObject({
  name: z.string().min(1),
  /** Compute time of one round of local updates (ms); the profile's when absent. */
  computeMs: z.number().finite().nonnegative().optional(),
  uplinkBps: positive.optional(),
  downlinkBps: positive.optional(),
});

const linkSchema = z.strictObject({
  from: z.string().min(1),
  to: z.string().min(1),
  latencyMs: z.number().finite().nonnegative(),
  bandwidthBps: positive,
});

export const measurementsSchema = z.strictObject({
  /** Size of the exchanged model (bits); the profile's when absent. */
  modelBits: positive.optional(),
  silos: z.array(siloSchema).min(2),
  /** One entry per ordered pair; an entry also stands for the reverse pair if that is absent. */
  links: z.array(linkSchema),
});

export type Measurements = z.infer<typeof measurementsSchema>;

/** Validates parsed JSON (or any value) as measurements. */
export function parseMeasurements(value: unknown, source = 'measurements'): Measurements {
  const result = measurementsSchema.safeParse(value);
  if (!result.success) {
    throw new MeasurementsError(`${source}: ${z.prettifyError(result.error)}`, { cause: result.error });
  }
  return result.data;
}

export function fleetFromMeasurements(measurements: Measurements, defaults: Workload): Fleet {
  const modelBits = measurements.modelBits ?? defaults.modelBits;
  validateWorkload({ ...defaults, modelBits });
  const names = measurements.silos.map((silo) => silo.name);
  const size = names.length;
  const index = new Map<string, number>();
  names.forEach((name, i) => {
    if (index.has(name)) throw new MeasurementsError(`silo "${name}" is listed twice`);
    index.set(name, i);
  });
  const silo = (name: string, link: number): number => {
    const i = index.get(name);
    if (i === undefined) throw new MeasurementsError(`link ${link} names unknown silo "${name}"`);
    return i;
  };

  const latencyMs = new Float64Array(size * size).fill(NaN);
  const bandwidth = new Float64Array(size * size).fill(NaN);
  const given = new Uint8Array(size * size);
  measurements.links.forEach((link, k) => {
    const u = silo(link.from, k);
    const v = silo(link.to, k);
    if (u === v) throw new MeasurementsError(`link ${k} joins silo "${link.from}" to itself`);
    if (given[u * size + v] === 1)
      throw new MeasurementsError(`link ${k}: "${link.from}" -> "${link.to}" is measured twice`);
    given[u * size + v] = 1;
    latencyMs[u * size + v] = link.latencyMs;
    bandwidth[u * size + v] = link.bandwidthBps / 1000;
  });
  for (let u = 0; u < size; u++) {
    latencyMs[u * size + u] = 0;
    bandwidth[u * size + u] = Infinity;
    for (let v = 0; v < size; v++) {
      if (u === v || given[u * size + v] === 1) continue;
      if (given[v * size + u] !== 1) {
        throw new MeasurementsError(
          `no measurement between "${names[u]}" and "${names[v]}" (either direction)`,
        );
      }
      latencyMs[u * size + v] = latencyMs[v * size + u] ?? NaN;
      bandwidth[u * size + v] = bandwidth[v * size + u] ?? NaN;
    }
  }
  const perSilo = (
    pick: (s: Measurements['silos'][number]) => number | undefined,
    fallback: number,
  ): Float64Array => Float64Array.from(measurements.silos, (s) => pick(s) ?? fallback);
  const uplink = perSilo((s) => s.uplinkBps, defaults.uplinkBps);
  const downlink = perSilo((s) => s.downlinkBps, defaults.downlinkBps);
  return {
    size,
    names,
    latencyMs,
    bandwidth,
    computeMs: perSilo((s) => s.computeMs, defaults.computeMs),
    uploadMs: uplink.map((bps) => modelBits / (bps / 1000)),
    downloadMs: downlink.map((bps) => modelBits / (bps / 1000)),
    modelBits,
  };
}
