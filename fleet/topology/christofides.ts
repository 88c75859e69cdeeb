// RING: a directed Hamiltonian cycle by Christofides' heuristic on the delays without degrees
// (specification, 3). Every step is deterministic and ordered as specified, because equally
// valid traversal orders give rings up to 7% slower on the paper's networks.

import { linkDelay } from './fleet.ts';
import type { Fleet } from './fleet.ts';
import { minWeightPerfectMatching } from './matching.ts';
import { symmetric } from './overlays.ts';
import type { Overlay } from './overlays.ts';

/**
 * Prim from silo 0: repeatedly the cheapest edge from the tree to a new silo; among equal
 * weights, the tree silo that joined first, then the lowest new silo.
 */
export function primFromZero(size: number, weight: (u: number, v: number) => number): [number, number][] {
  const inTree = new Uint8Array(size);
  const rank = new Int32Array(size);
  const key = new Float64Array(size).fill(Infinity);
  const keyFrom = new Int32Array(size).fill(-1);
  const edges: [number, number][] = [];
  let joined = 0;
  const join = (x: number): void => {
    inTree[x] = 1;
    rank[x] = joined++;
    for (let v = 0; v < size; v++) {
      if (inTree[v] === 1) continue;
      const w = weight(x, v);
      if (w < (key[v] ?? Infinity)) {
        key[v] = w;
        keyFrom[v] = x;
      }
    }
  };
  join(0);
  while (joined < size) {
    let pick = -1;
    for (let v = 0; v < size; v++) {
      if (inTree[v] === 1) continue;
      if (
        pick < 0 ||
        (key[v] ?? 0) < (key[pick] ?? 0) ||
        ((key[v] ?? 0) === key[pick] && (rank[keyFrom[v] ?? 0] ?? 0) < (rank[keyFrom[pick] ?? 0] ?? 0))
      ) {
        pick = v;
      }
    }
    edges.push([keyFrom[pick] ?? 0, pick]);
    join(pick);
  }
  return edges;
}

/**
 * Hierholzer from silo 0 on tree + matching edges, each silo's edges taken in the specified
 * order; returns the silos in the order they are popped.
 */
export function eulerCircuit(
  size: number,
  tree: readonly (readonly [number, number])[],
  partner: Int32Array,
): number[] {
  const treeNeighbours: number[][] = Array.from({ length: size }, () => []);
  for (const [u, v] of tree) {
    treeNeighbours[u]?.push(v);
    treeNeighbours[v]?.push(u);
  }
  // Edge ids: tree edges 0..size-2, matching edges after them; each silo lists (id, other end).
  const edgeIds = new Map<string, number[]>();
  const addId = (u: number, v: number, id: number): void => {
    const key = u < v ? `${u}-${v}` : `${v}-${u}`;
    edgeIds.set(key, [...(edgeIds.get(key) ?? []), id]);
  };
  tree.forEach(([u, v], id) => addId(u, v, id));
  let nextId = tree.length;
  for (let u = 0; u < size; u++) {
    const v = partner[u] ?? -1;
    if (v > u) addId(u, v, nextId++);
  }
  const incidence: { id: number; to: number }[][] = [];
  for (let u = 0; u < size; u++) {
    const others = new Set<number>(treeNeighbours[u]);
    const mate = partner[u] ?? -1;
    if (mate >= 0) others.add(mate);
    const lower = [...others].filter((v) => v < u).sort((a, b) => a - b);
    const higherTree = (treeNeighbours[u] ?? []).filter((v) => v > u).sort((a, b) => a - b);
    const order = [...lower, ...higherTree];
    if (mate > u && !higherTree.includes(mate)) order.push(mate);
    incidence.push(
      order.flatMap((v) =>
        (edgeIds.get(u < v ? `${u}-${v}` : `${v}-${u}`) ?? []).map((id) => ({ id, to: v })),
      ),
    );
  }
  const used = new Uint8Array(nextId);
  const cursor = new Int32Array(size);
  const stack = [0];
  const popped: number[] = [];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] ?? 0;
    const edges = incidence[top] ?? [];
    let c = cursor[top] ?? 0;
    while (c < edges.length && used[edges[c]?.id ?? 0] === 1) c++;
    cursor[top] = c;
    const edge = edges[c];
    if (edge === undefined) {
      popped.push(top);
      stack.pop();
    } else {
      used[edge.id] = 1;
      stack.push(edge.to);
    }
  }
  return popped;
}

/** The ring order: first occurrence of every silo in the circuit. */
export function christofidesOrder(size: number, weight: (u: number, v: number) => number): number[] {
  if (size < 3) return Array.from({ length: size }, (_, i) => i);
  const tree = primFromZero(size, weight);
  const degree = new Int32Array(size);
  for (const [u, v] of tree) {
    degree[u] = (degree[u] ?? 0) + 1;
    degree[v] = (degree[v] ?? 0) + 1;
  }
  const odd = Array.from({ length: size }, (_, v) => v).filter((v) => (degree[v] ?? 0) % 2 === 1);
  const mates = minWeightPerfectMatching(odd.length, (i, j) => weight(odd[i] ?? 0, odd[j] ?? 0));
  const partner = new Int32Array(size).fill(-1);
  odd.forEach((v, i) => {
    partner[v] = odd[mates[i] ?? -1] ?? -1;
  });
  const seen = new Set<number>();
  const order: number[] = [];
  for (const v of eulerCircuit(size, tree, partner)) {
    if (!seen.has(v)) {
      seen.add(v);
      order.push(v);
    }
  }
  return order;
}

export function ringFromOrder(order: readonly number[]): Overlay {
  return {
    kind: 'ring',
    size: order.length,
    order: [...order],
    arcs: order.map((from, i) => ({ from, to: order[(i + 1) % order.length] ?? 0 })),
  };
}

export function ringOverlay(fleet: Fleet): Overlay {
  const n = fleet.size;
  const delays = new Float64Array(n * n);
  for (let u = 0; u < n; u++)
    for (let v = 0; v < n; v++) if (u !== v) delays[u * n + v] = linkDelay(fleet, u, v);
  return ringFromOrder(
    christofidesOrder(
      n,
      symmetric((u, v) => delays[u * n + v] ?? 0),
    ),
  );
}
