// The connectivity graph: for every pair of silos, the latency and the available bandwidth of
// the shortest underlay path. Pure; see the specification, section 1.

import { DisconnectedNetworkError } from './errors.ts';
import type { GmlNetwork } from './gml.ts';

export interface Connectivity {
  readonly size: number;
  readonly names: readonly string[];
  /** latencyMs[i * size + j], 0 on the diagonal. */
  readonly latencyMs: Float64Array;
  /** Available bandwidth in bits per millisecond, bandwidth[i * size + j]. */
  readonly bandwidth: Float64Array;
}

export interface NetworkOptions {
  /** Capacity of one underlay link in bit/s (the paper: 1e9). */
  readonly linkCapacityBps?: number;
}

const LATENCY_MS_PER_KM = 0.0085;
const LATENCY_BASE_MS = 4;

/** Min-heap on (distance, insertion order), the order networkx's Dijkstra pops in. */
class Fringe {
  #dist: number[] = [];
  #seq: number[] = [];
  #node: number[] = [];

  get size(): number {
    return this.#node.length;
  }

  #less(a: number, b: number): boolean {
    const da = this.#dist[a] ?? 0;
    const db = this.#dist[b] ?? 0;
    return da < db || (da === db && (this.#seq[a] ?? 0) < (this.#seq[b] ?? 0));
  }

  #swap(a: number, b: number): void {
    for (const array of [this.#dist, this.#seq, this.#node]) {
      const t = array[a] ?? 0;
      array[a] = array[b] ?? 0;
      array[b] = t;
    }
  }

  push(dist: number, seq: number, node: number): void {
    this.#dist.push(dist);
    this.#seq.push(seq);
    this.#node.push(node);
    let i = this.#node.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  pop(): { dist: number; node: number } {
    const top = { dist: this.#dist[0] ?? 0, node: this.#node[0] ?? 0 };
    const last = this.#node.length - 1;
    this.#swap(0, last);
    this.#dist.pop();
    this.#seq.pop();
    this.#node.pop();
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < last && this.#less(left, smallest)) smallest = left;
      if (right < last && this.#less(right, smallest)) smallest = right;
      if (smallest === i) break;
      this.#swap(i, smallest);
      i = smallest;
    }
    return top;
  }
}

/**
 * Shortest paths by distance from `source`: distance and hop count per silo. Equal-length paths
 * are resolved as networkx does (first path to reach the final distance, neighbours in file
 * order), because the hop count, and so the bandwidth, depends on which one is taken.
 */
export function shortestPaths(
  size: number,
  adjacency: readonly (readonly { to: number; distance: number }[])[],
  source: number,
): { distance: Float64Array; hops: Int32Array } {
  const distance = new Float64Array(size).fill(Infinity);
  const seen = new Float64Array(size).fill(Infinity);
  const hops = new Int32Array(size).fill(-1);
  const done = new Uint8Array(size);
  const fringe = new Fringe();
  let seq = 0;
  seen[source] = 0;
  hops[source] = 0;
  fringe.push(0, seq++, source);
  while (fringe.size > 0) {
    const { dist, node } = fringe.pop();
    if (done[node] === 1) continue;
    done[node] = 1;
    distance[node] = dist;
    for (const { to, distance: length } of adjacency[node] ?? []) {
      if (done[to] === 1) continue;
      const through = dist + length;
      if (through < (seen[to] ?? Infinity)) {
        seen[to] = through;
        hops[to] = (hops[node] ?? 0) + 1;
        fringe.push(through, seq++, to);
      }
    }
  }
  return { distance, hops };
}

export function connectivityFromNetwork(network: GmlNetwork, options: NetworkOptions = {}): Connectivity {
  const size = network.nodes.length;
  const capacity = (options.linkCapacityBps ?? 1e9) / 1000;
  const adjacency: { to: number; distance: number }[][] = Array.from({ length: size }, () => []);
  for (const edge of network.edges) {
    adjacency[edge.source]?.push({ to: edge.target, distance: edge.distance });
    adjacency[edge.target]?.push({ to: edge.source, distance: edge.distance });
  }
  const names = network.nodes.map((node) => node.label);
  const latencyMs = new Float64Array(size * size);
  const bandwidth = new Float64Array(size * size);
  // The pair {i, j} (i < j) takes its path from the search rooted at j: the reference code
  // fills an undirected graph source by source, so the later source's path is the one kept.
  for (let source = 0; source < size; source++) {
    const { distance, hops } = shortestPaths(size, adjacency, source);
    for (let target = 0; target < size; target++) {
      if (target === source) continue;
      const length = distance[target] ?? Infinity;
      if (!Number.isFinite(length)) {
        throw new DisconnectedNetworkError(names[source] ?? String(source), names[target] ?? String(target));
      }
      if (target > source) continue;
      const latency = LATENCY_MS_PER_KM * length + LATENCY_BASE_MS;
      const available = capacity / (hops[target] ?? 1);
      for (const [a, b] of [
        [source, target],
        [target, source],
      ] as const) {
        latencyMs[a * size + b] = latency;
        bandwidth[a * size + b] = available;
      }
    }
  }
  return { size, names, latencyMs, bandwidth };
}
