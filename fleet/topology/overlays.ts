// Overlays as directed arc sets over the silos, their link delays (specification, 2) and
// cycle times (4); the STAR and MST baselines (3). Pure.

import { linkDelay } from './fleet.ts';
import type { Fleet } from './fleet.ts';
import { CycleMeanSolver } from './karp.ts';
import type { Arc } from './karp.ts';

export type OverlayKind = 'star' | 'mst' | 'delta-mbst' | 'ring';

export interface Overlay {
  readonly kind: OverlayKind;
  readonly size: number;
  readonly arcs: readonly Arc[];
  /** Ring order for a ring (silo i links to silo i + 1, the last back to the first). */
  readonly order?: readonly number[];
  /** The server of a star. */
  readonly server?: number;
}

export interface Degrees {
  readonly out: Int32Array;
  readonly in: Int32Array;
}

export function degrees(size: number, arcs: readonly Arc[]): Degrees {
  const out = new Int32Array(size);
  const inward = new Int32Array(size);
  for (const arc of arcs) {
    out[arc.from] = (out[arc.from] ?? 0) + 1;
    inward[arc.to] = (inward[arc.to] ?? 0) + 1;
  }
  return { out, in: inward };
}

/** Delay of every arc with the overlay's degrees (or without, i.e. all degrees 1). */
export function arcDelays(fleet: Fleet, arcs: readonly Arc[], withDegrees = true): Float64Array {
  const { out, in: inward } = degrees(fleet.size, arcs);
  return Float64Array.from(arcs, ({ from, to }) =>
    withDegrees ? linkDelay(fleet, from, to, out[from], inward[to]) : linkDelay(fleet, from, to),
  );
}

/** Cycle time lambda: the maximum cycle mean of the overlay under its link delays. */
export function cycleTime(fleet: Fleet, overlay: Overlay): number {
  return new CycleMeanSolver(fleet.size, overlay.arcs).solve(arcDelays(fleet, overlay.arcs));
}

/**
 * The number the paper reports: lambda, except for STAR, whose round is a gather and then a
 * scatter, hence (lambda - Tc) * 2 + Tc.
 */
export function reportedCycleTime(fleet: Fleet, overlay: Overlay): number {
  const lambda = cycleTime(fleet, overlay);
  if (overlay.kind !== 'star') return lambda;
  const tc = fleet.computeMs[overlay.server ?? 0] ?? 0;
  return (lambda - tc) * 2 + tc;
}

/** Both arcs of every undirected edge, edge by edge. */
export function bidirected(edges: readonly (readonly [number, number])[]): Arc[] {
  return edges.flatMap(([u, v]) => [
    { from: u, to: v },
    { from: v, to: u },
  ]);
}

/** Symmetric weight of a pair: the mean of the two directions, exact when they are equal. */
export function symmetric(weight: (u: number, v: number) => number): (u: number, v: number) => number {
  return (u, v) => (weight(u, v) + weight(v, u)) / 2;
}

/**
 * Load centrality (Goh et al., as networkx computes it) on the complete graph weighted by
 * latency. Only the argmax is used, so the normalisation is left out.
 */
export function loadCentrality(fleet: Fleet): Float64Array {
  const n = fleet.size;
  const weight = new Float64Array(n * n);
  for (let u = 0; u < n; u++) {
    for (let v = 0; v < n; v++) {
      weight[u * n + v] =
        ((fleet.latencyMs[u * n + v] as number) + (fleet.latencyMs[v * n + u] as number)) / 2;
    }
  }
  const load = new Float64Array(n);
  const distance = new Float64Array(n);
  const done = new Uint8Array(n);
  const between = new Float64Array(n);
  const predecessors = new Int32Array(n);
  for (let source = 0; source < n; source++) {
    distance.fill(Infinity);
    done.fill(0);
    distance[source] = 0;
    for (let step = 0; step < n; step++) {
      let v = -1;
      let dv = Infinity;
      for (let u = 0; u < n; u++) {
        if (done[u] === 0 && (v < 0 || (distance[u] as number) < dv)) {
          v = u;
          dv = distance[u] as number;
        }
      }
      done[v] = 1;
      const row = v * n;
      for (let u = 0; u < n; u++) {
        const through = dv + (weight[row + u] as number);
        if (done[u] === 0 && through < (distance[u] as number)) distance[u] = through;
      }
    }
    const byDistance = Array.from({ length: n }, (_, v) => v)
      .filter((v) => (distance[v] as number) > 0)
      .sort((a, b) => (distance[a] as number) - (distance[b] as number) || a - b);
    between.fill(1);
    for (let i = byDistance.length - 1; i >= 0; i--) {
      const v = byDistance[i] as number;
      const dv = distance[v] as number;
      // Reached directly from the source: the usual case, decided without a scan.
      if ((weight[source * n + v] as number) === dv) continue;
      let count = 0;
      let viaSource = false;
      for (let u = 0; u < n; u++) {
        if (u !== v && (distance[u] as number) + (weight[u * n + v] as number) === dv) {
          if (u === source) viaSource = true;
          predecessors[count++] = u;
        }
      }
      // networkx stops at the source: a silo reached directly from it passes nothing on.
      if (viaSource) continue;
      const share = (between[v] as number) / count;
      for (let k = 0; k < count; k++) {
        const u = predecessors[k] as number;
        between[u] = (between[u] as number) + share;
      }
    }
    for (let v = 0; v < n; v++) load[v] = (load[v] as number) + (between[v] as number) - 1;
  }
  return load;
}

export function starOverlay(fleet: Fleet): Overlay {
  const load = loadCentrality(fleet);
  let server = 0;
  for (let v = 1; v < fleet.size; v++) if ((load[v] ?? 0) > (load[server] ?? 0)) server = v;
  const edges: [number, number][] = [];
  for (let v = 0; v < fleet.size; v++) if (v !== server) edges.push([server, v]);
  return { kind: 'star', size: fleet.size, arcs: bidirected(edges), server };
}

/** Kruskal on all pairs; equal weights keep the pair order (i < j, lexicographic). */
export function minimumSpanningTree(
  size: number,
  weight: (u: number, v: number) => number,
): [number, number][] {
  const pairs: { u: number; v: number; w: number }[] = [];
  for (let u = 0; u < size; u++) for (let v = u + 1; v < size; v++) pairs.push({ u, v, w: weight(u, v) });
  pairs.sort((a, b) => a.w - b.w);
  const parent = Int32Array.from({ length: size }, (_, i) => i);
  const find = (x: number): number => {
    let root = x;
    while ((parent[root] ?? root) !== root) root = parent[root] ?? root;
    while (x !== root) {
      const next = parent[x] ?? root;
      parent[x] = root;
      x = next;
    }
    return root;
  };
  const tree: [number, number][] = [];
  for (const { u, v } of pairs) {
    const ru = find(u);
    const rv = find(v);
    if (ru === rv) continue;
    parent[ru] = rv;
    tree.push([u, v]);
    if (tree.length === size - 1) break;
  }
  return tree;
}

/** MST with weight Tc + latency + M / availableBandwidth, used in both directions. */
export function mstOverlay(fleet: Fleet): Overlay {
  const n = fleet.size;
  const weight = symmetric(
    (u, v) =>
      (fleet.computeMs[u] ?? 0) +
      (fleet.latencyMs[u * n + v] ?? 0) +
      fleet.modelBits / (fleet.bandwidth[u * n + v] ?? 0),
  );
  return { kind: 'mst', size: n, arcs: bidirected(minimumSpanningTree(n, weight)) };
}
