// delta-MBST (specification, 3, after Marfoq et al. 2020): the best, by cycle time, of the
// degree-bounded Prim trees for every bound delta >= 2 and of a Hamiltonian path in the cube
// of the MST. Both use the two-way weight of a pair. Pure.

import type { Fleet } from './fleet.ts';
import { bidirected, cycleTime, minimumSpanningTree } from './overlays.ts';
import type { Overlay } from './overlays.ts';

export interface DeltaMbst {
  readonly overlay: Overlay;
  readonly cycleTimeMs: number;
  /** The degree bound of the winning tree, or null when the cube path won. */
  readonly delta: number | null;
}

/**
 * Tc + latency + max(up(u), down(v), M / bw) + max(up(v), down(u), M / bw), as a lookup in a
 * precomputed matrix since every Prim run reads it O(n^2) times.
 */
export function twoWayWeight(fleet: Fleet): (u: number, v: number) => number {
  const n = fleet.size;
  const transfer = (u: number, v: number): number =>
    Math.max(
      fleet.uploadMs[u] ?? 0,
      fleet.downloadMs[v] ?? 0,
      fleet.modelBits / (fleet.bandwidth[u * n + v] ?? 0),
    );
  const matrix = new Float64Array(n * n);
  for (let u = 0; u < n; u++) {
    for (let v = 0; v < n; v++) {
      if (u === v) continue;
      const compute = ((fleet.computeMs[u] ?? 0) + (fleet.computeMs[v] ?? 0)) / 2;
      const latency = ((fleet.latencyMs[u * n + v] ?? 0) + (fleet.latencyMs[v * n + u] ?? 0)) / 2;
      matrix[u * n + v] = compute + latency + transfer(u, v) + transfer(v, u);
    }
  }
  return (u, v) => matrix[u * n + v] ?? 0;
}

/**
 * Prim from silo 0 where a tree silo of degree `delta` takes no more edges. Ties go to the
 * silo that joined the tree first, then to the lowest new silo, as in the reference.
 */
export function degreeBoundedPrim(
  size: number,
  weight: (u: number, v: number) => number,
  delta: number,
): [number, number][] {
  const inTree = new Uint8Array(size);
  const rank = new Int32Array(size).fill(-1);
  const degree = new Int32Array(size);
  const best = new Float64Array(size).fill(Infinity);
  const bestFrom = new Int32Array(size).fill(-1);
  const members: number[] = [];
  const edges: [number, number][] = [];

  const join = (x: number): void => {
    inTree[x] = 1;
    rank[x] = members.length;
    members.push(x);
    for (let v = 0; v < size; v++) {
      if (inTree[v] === 1) continue;
      const w = weight(x, v);
      if (w < (best[v] ?? Infinity)) {
        best[v] = w;
        bestFrom[v] = x;
      }
    }
  };
  const refresh = (v: number): void => {
    best[v] = Infinity;
    bestFrom[v] = -1;
    for (const u of members) {
      if ((degree[u] ?? 0) >= delta) continue;
      const w = weight(u, v);
      if (w < (best[v] ?? Infinity)) {
        best[v] = w;
        bestFrom[v] = u;
      }
    }
  };

  join(0);
  while (edges.length < size - 1) {
    let pick = -1;
    for (let v = 0; v < size; v++) {
      if (inTree[v] === 1 || bestFrom[v] === -1) continue;
      if (
        pick < 0 ||
        (best[v] ?? 0) < (best[pick] ?? 0) ||
        ((best[v] ?? 0) === best[pick] && (rank[bestFrom[v] ?? 0] ?? 0) < (rank[bestFrom[pick] ?? 0] ?? 0))
      ) {
        pick = v;
      }
    }
    const from = bestFrom[pick] ?? 0;
    edges.push([from, pick]);
    degree[from] = (degree[from] ?? 0) + 1;
    degree[pick] = 1;
    join(pick);
    if ((degree[from] ?? 0) >= delta) {
      for (let v = 0; v < size; v++) if (inTree[v] === 0 && bestFrom[v] === from) refresh(v);
    }
  }
  return edges;
}

/**
 * A Hamiltonian path of the cube of a tree: consecutive silos are at most three tree edges
 * apart. Silos at even depth are listed before their subtrees, silos at odd depth after.
 */
export function cubeHamiltonianPath(size: number, tree: readonly (readonly [number, number])[]): number[] {
  const neighbours: number[][] = Array.from({ length: size }, () => []);
  for (const [u, v] of tree) {
    neighbours[u]?.push(v);
    neighbours[v]?.push(u);
  }
  for (const list of neighbours) list.sort((a, b) => a - b);
  const path: number[] = [];
  const visit = (x: number, parent: number, even: boolean): void => {
    const children = (neighbours[x] ?? []).filter((c) => c !== parent);
    if (even) {
      path.push(x);
      for (let i = children.length - 1; i >= 0; i--) visit(children[i] ?? 0, x, false);
    } else {
      for (const c of children) visit(c, x, true);
      path.push(x);
    }
  };
  visit(0, -1, true);
  return path;
}

function maxDegree(size: number, edges: readonly (readonly [number, number])[]): number {
  const degree = new Int32Array(size);
  for (const [u, v] of edges) {
    degree[u] = (degree[u] ?? 0) + 1;
    degree[v] = (degree[v] ?? 0) + 1;
  }
  return Math.max(0, ...degree);
}

export function deltaMbstOverlay(fleet: Fleet): DeltaMbst {
  const n = fleet.size;
  const weight = twoWayWeight(fleet);
  const tree = (edges: readonly (readonly [number, number])[]): Overlay => ({
    kind: 'delta-mbst',
    size: n,
    arcs: bidirected(edges),
  });
  const path = cubeHamiltonianPath(n, minimumSpanningTree(n, weight));
  let best: DeltaMbst = (() => {
    const overlay = tree(path.slice(1).map((v, i) => [path[i] ?? 0, v] as const));
    return { overlay, cycleTimeMs: cycleTime(fleet, overlay), delta: null };
  })();
  // Once delta reaches the largest degree of the unbounded Prim tree, the bound never binds
  // and every larger delta gives that same tree: stop there.
  const unbounded = maxDegree(n, degreeBoundedPrim(n, weight, n));
  for (let delta = 2; delta <= Math.min(n - 1, Math.max(2, unbounded)); delta++) {
    const overlay = tree(degreeBoundedPrim(n, weight, delta));
    const time = cycleTime(fleet, overlay);
    if (time < best.cycleTimeMs) best = { overlay, cycleTimeMs: time, delta };
  }
  return best;
}
