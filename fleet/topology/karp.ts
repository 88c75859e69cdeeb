// Maximum cycle mean of a weighted digraph (Karp 1978), exact, O(n * m) time and O(n^2)
// memory. The cycle time of a max-plus linear system is this number (specification, 4).
//
// D_k(v) is the heaviest walk of exactly k arcs ending at v, started anywhere (D_0 = 0 for
// every vertex: a virtual source joined to all of them), so graphs that are not strongly
// connected need no special case. Then lambda = max_v min_k (D_n(v) - D_k(v)) / (n - k).

export interface Arc {
  readonly from: number;
  readonly to: number;
}

/** Reusable solver for one arc set: the simulation calls it once per round with new weights. */
export class CycleMeanSolver {
  readonly size: number;
  readonly #from: Int32Array;
  readonly #to: Int32Array;
  readonly #walks: Float64Array;

  constructor(size: number, arcs: readonly Arc[]) {
    this.size = size;
    this.#from = Int32Array.from(arcs, (arc) => arc.from);
    this.#to = Int32Array.from(arcs, (arc) => arc.to);
    for (const arc of arcs) {
      if (arc.from < 0 || arc.from >= size || arc.to < 0 || arc.to >= size) {
        throw new RangeError(`arc ${arc.from} -> ${arc.to} leaves the vertex range 0..${size - 1}`);
      }
    }
    this.#walks = new Float64Array((size + 1) * size);
  }

  get arcCount(): number {
    return this.#from.length;
  }

  /** The maximum cycle mean under `weights` (one per arc), or -Infinity if there is no cycle. */
  solve(weights: ArrayLike<number>): number {
    const n = this.size;
    const m = this.#from.length;
    if (weights.length !== m) throw new RangeError(`expected ${m} weights, got ${weights.length}`);
    const from = this.#from;
    const to = this.#to;
    const walks = this.#walks;
    walks.fill(0, 0, n);
    walks.fill(-Infinity, n);
    for (let k = 1; k <= n; k++) {
      const previous = (k - 1) * n;
      const current = k * n;
      for (let e = 0; e < m; e++) {
        const start = walks[previous + (from[e] as number)] as number;
        if (start === -Infinity) continue;
        const candidate = start + (weights[e] as number);
        const index = current + (to[e] as number);
        if (candidate > (walks[index] as number)) walks[index] = candidate;
      }
    }
    let lambda = -Infinity;
    const last = n * n;
    for (let v = 0; v < n; v++) {
      const total = walks[last + v] as number;
      if (total === -Infinity) continue;
      let worst = Infinity;
      for (let k = 0; k < n; k++) {
        const partial = walks[k * n + v] as number;
        if (partial === -Infinity) continue;
        const mean = (total - partial) / (n - k);
        if (mean < worst) worst = mean;
      }
      if (worst > lambda) lambda = worst;
    }
    return lambda;
  }
}

export function maxCycleMean(size: number, arcs: readonly Arc[], weights: ArrayLike<number>): number {
  return new CycleMeanSolver(size, arcs).solve(weights);
}

/** True when the arcs form one directed cycle through all `size` vertices (a ring). */
export function isHamiltonianCycle(size: number, arcs: readonly Arc[]): boolean {
  if (arcs.length !== size || size < 2) return false;
  const next = new Int32Array(size).fill(-1);
  for (const arc of arcs) {
    if (next[arc.from] !== -1 || arc.from === arc.to) return false;
    next[arc.from] = arc.to;
  }
  let v = 0;
  for (let steps = 1; steps <= size; steps++) {
    v = next[v] ?? -1;
    if (v < 0) return false;
    if (v === 0) return steps === size;
  }
  return false;
}
