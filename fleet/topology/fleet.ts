// What the delay model needs to know about a fleet, whether it came from a network file plus
// a training profile or from measurements of a live fleet; and the link delay of section 2.

import type { Connectivity } from './connectivity.ts';
import { TopologyInputError } from './errors.ts';

export interface Fleet {
  readonly size: number;
  readonly names: readonly string[];
  /** latencyMs[u * size + v] */
  readonly latencyMs: Float64Array;
  /** Available bandwidth in bits per millisecond. */
  readonly bandwidth: Float64Array;
  /** Compute time of one round of local updates, per silo (ms). */
  readonly computeMs: Float64Array;
  /** M / C_up per silo (ms). */
  readonly uploadMs: Float64Array;
  /** M / C_down per silo (ms). */
  readonly downloadMs: Float64Array;
  readonly modelBits: number;
}

export interface Workload {
  readonly modelBits: number;
  readonly computeMs: number;
  readonly uplinkBps: number;
  readonly downlinkBps: number;
}

export type ProfileName = 'femnist' | 'sent140' | 'inaturalist' | 'fadnet-gazebo' | 'fadnet-carla';

export interface Profile {
  readonly modelBits: number;
  readonly computeMs: number;
  readonly rounds: number;
}

/** Section 8 of the specification. */
export const PROFILES: Readonly<Record<ProfileName, Profile>> = {
  femnist: { modelBits: 4_843_243, computeMs: 4.6, rounds: 6400 },
  sent140: { modelBits: 19_269_416, computeMs: 9.8, rounds: 20_000 },
  inaturalist: { modelBits: 44_961_717, computeMs: 25.4, rounds: 1600 },
  'fadnet-gazebo': { modelBits: 10_091_936, computeMs: 4.9, rounds: 3000 },
  'fadnet-carla': { modelBits: 10_091_936, computeMs: 7.2, rounds: 3000 },
};

export const DEFAULT_ACCESS_BPS = 1e10;
export const DEFAULT_T_MAX = 5;

export function isProfileName(name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name);
}

export function validateWorkload(workload: Workload): void {
  const checks: [keyof Workload, number][] = [
    ['modelBits', workload.modelBits],
    ['computeMs', workload.computeMs],
    ['uplinkBps', workload.uplinkBps],
    ['downlinkBps', workload.downlinkBps],
  ];
  for (const [key, value] of checks) {
    const positive = key === 'computeMs' ? value >= 0 : value > 0;
    if (!Number.isFinite(value) || !positive) {
      throw new TopologyInputError(
        `${key} must be a finite number ${key === 'computeMs' ? '>= 0' : '> 0'}, got ${value}`,
      );
    }
  }
}

export function fleetFromConnectivity(connectivity: Connectivity, workload: Workload): Fleet {
  validateWorkload(workload);
  const { size } = connectivity;
  return {
    size,
    names: connectivity.names,
    latencyMs: connectivity.latencyMs,
    bandwidth: connectivity.bandwidth,
    computeMs: new Float64Array(size).fill(workload.computeMs),
    uploadMs: new Float64Array(size).fill(workload.modelBits / (workload.uplinkBps / 1000)),
    downloadMs: new Float64Array(size).fill(workload.modelBits / (workload.downlinkBps / 1000)),
    modelBits: workload.modelBits,
  };
}

/**
 * d(u, v) = Tc + latency + max(out(u) * uploadDelay, in(v) * downloadDelay, M / bandwidth);
 * out = in = 1 gives the delay "without degrees".
 */
export function linkDelay(fleet: Fleet, u: number, v: number, outDegree = 1, inDegree = 1): number {
  const pair = u * fleet.size + v;
  return (
    (fleet.computeMs[u] ?? 0) +
    (fleet.latencyMs[pair] ?? 0) +
    Math.max(
      outDegree * (fleet.uploadMs[u] ?? 0),
      inDegree * (fleet.downloadMs[v] ?? 0),
      fleet.modelBits / (fleet.bandwidth[pair] ?? 0),
    )
  );
}
