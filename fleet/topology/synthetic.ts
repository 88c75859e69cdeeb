// Seeded synthetic underlays for benchmarks and tests: silos scattered over a continent-sized
// square, each linked to its nearest neighbours and to the Euclidean MST (so the network is
// connected). Pure and deterministic for a given seed.

import { mulberry32 } from '../../common/index.ts';
import type { GmlNetwork } from './gml.ts';

export interface SyntheticOptions {
  readonly silos: number;
  readonly seed?: number;
  /** Side of the square in km (default 5000, about Europe or the United States). */
  readonly sideKm?: number;
  /** Links from each silo to its nearest others (default 3). */
  readonly nearest?: number;
}

export function syntheticNetwork(options: SyntheticOptions): GmlNetwork {
  const { silos } = options;
  const random = mulberry32(options.seed ?? 1);
  const side = options.sideKm ?? 5000;
  const x = Float64Array.from({ length: silos }, () => random() * side);
  const y = Float64Array.from({ length: silos }, () => random() * side);
  const distance = (a: number, b: number): number =>
    Math.hypot((x[a] ?? 0) - (x[b] ?? 0), (y[a] ?? 0) - (y[b] ?? 0));
  const links = new Map<string, [number, number]>();
  const link = (a: number, b: number): void => {
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    if (!links.has(key)) links.set(key, a < b ? [a, b] : [b, a]);
  };
  for (let a = 0; a < silos; a++) {
    const others = Array.from({ length: silos }, (_, b) => b).filter((b) => b !== a);
    others.sort((b1, b2) => distance(a, b1) - distance(a, b2));
    for (const b of others.slice(0, options.nearest ?? 3)) link(a, b);
  }
  // Prim on the points: joins whatever the nearest-neighbour links left apart.
  const inTree = new Uint8Array(silos);
  const best = new Float64Array(silos).fill(Infinity);
  const from = new Int32Array(silos).fill(-1);
  best[0] = 0;
  for (let step = 0; step < silos; step++) {
    let v = -1;
    for (let u = 0; u < silos; u++) if (inTree[u] === 0 && (v < 0 || (best[u] ?? 0) < (best[v] ?? 0))) v = u;
    inTree[v] = 1;
    if ((from[v] ?? -1) >= 0) link(from[v] ?? 0, v);
    for (let u = 0; u < silos; u++) {
      if (inTree[u] === 0 && distance(v, u) < (best[u] ?? 0)) {
        best[u] = distance(v, u);
        from[u] = v;
      }
    }
  }
  return {
    nodes: Array.from({ length: silos }, (_, id) => ({ id, label: `silo-${id}`, line: 0 })),
    edges: [...links.values()].map(([source, target]) => ({
      source,
      target,
      distance: distance(source, target),
      line: 0,
    })),
  };
}
