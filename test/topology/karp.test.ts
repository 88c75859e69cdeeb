import { describe, expect, it } from 'vitest';

import { CycleMeanSolver, maxCycleMean } from '../../fleet/topology/index.ts';
import type { Arc } from '../../fleet/topology/index.ts';
import { mulberry32 } from '../../common/index.ts';

/** Every simple cycle by DFS from its smallest vertex: the definition, for small graphs. */
function bruteForce(size: number, arcs: readonly Arc[], weights: readonly number[]): number {
  let best = -Infinity;
  const out: { to: number; w: number }[][] = Array.from({ length: size }, () => []);
  arcs.forEach((arc, e) => out[arc.from]?.push({ to: arc.to, w: weights[e] ?? 0 }));
  const onPath = new Uint8Array(size);
  const walk = (start: number, v: number, total: number, length: number): void => {
    for (const { to, w } of out[v] ?? []) {
      if (to === start) best = Math.max(best, (total + w) / (length + 1));
      else if (to > start && onPath[to] === 0) {
        onPath[to] = 1;
        walk(start, to, total + w, length + 1);
        onPath[to] = 0;
      }
    }
  };
  for (let s = 0; s < size; s++) {
    onPath[s] = 1;
    walk(s, s, 0, 0);
    onPath[s] = 0;
  }
  return best;
}

describe('maximum cycle mean (Karp)', () => {
  it('is the mean delay around a ring', () => {
    const arcs = [
      { from: 0, to: 1 },
      { from: 1, to: 2 },
      { from: 2, to: 3 },
      { from: 3, to: 0 },
    ];
    expect(maxCycleMean(4, arcs, [1, 2, 3, 10])).toBe(4);
  });

  it('picks the heavier of two cycles sharing a vertex', () => {
    // 0 <-> 1 has mean (5 + 1) / 2 = 3; 0 -> 2 -> 3 -> 0 has mean (4 + 4 + 4) / 3 = 4.
    const arcs = [
      { from: 0, to: 1 },
      { from: 1, to: 0 },
      { from: 0, to: 2 },
      { from: 2, to: 3 },
      { from: 3, to: 0 },
    ];
    expect(maxCycleMean(4, arcs, [5, 1, 4, 4, 4])).toBe(4);
  });

  it('counts a self-loop as a cycle of one arc', () => {
    const arcs = [
      { from: 0, to: 1 },
      { from: 1, to: 0 },
      { from: 1, to: 1 },
    ];
    expect(maxCycleMean(2, arcs, [1, 1, 7])).toBe(7);
  });

  it('handles graphs that are not strongly connected', () => {
    // Component {0, 1} (mean 2) feeds component {2, 3} (mean 6) through the arc 1 -> 2.
    const arcs = [
      { from: 0, to: 1 },
      { from: 1, to: 0 },
      { from: 1, to: 2 },
      { from: 2, to: 3 },
      { from: 3, to: 2 },
    ];
    expect(maxCycleMean(4, arcs, [2, 2, 100, 6, 6])).toBe(6);
  });

  it('is -Infinity without a cycle', () => {
    expect(
      maxCycleMean(
        3,
        [
          { from: 0, to: 1 },
          { from: 1, to: 2 },
        ],
        [1, 1],
      ),
    ).toBe(-Infinity);
  });

  it('gives the tree overlay of a star the mean of its worst two-cycle', () => {
    const arcs = [
      { from: 0, to: 1 },
      { from: 1, to: 0 },
      { from: 0, to: 2 },
      { from: 2, to: 0 },
    ];
    expect(maxCycleMean(3, arcs, [10, 20, 1, 3])).toBe(15);
  });

  it('agrees with brute force on random digraphs', () => {
    const random = mulberry32(7);
    for (let trial = 0; trial < 200; trial++) {
      const size = 2 + Math.floor(random() * 5);
      const arcs: Arc[] = [];
      for (let u = 0; u < size; u++)
        for (let v = 0; v < size; v++) if (random() < 0.45) arcs.push({ from: u, to: v });
      const weights = arcs.map(() => Math.round(random() * 100) / 4);
      const solver = new CycleMeanSolver(size, arcs);
      const expected = bruteForce(size, arcs, weights);
      if (expected === -Infinity) expect(solver.solve(weights)).toBe(-Infinity);
      else expect(solver.solve(weights)).toBeCloseTo(expected, 9);
    }
  });

  it('rejects arcs outside the vertex range and a wrong weight count', () => {
    expect(() => new CycleMeanSolver(2, [{ from: 0, to: 2 }])).toThrow(
      'arc 0 -> 2 leaves the vertex range 0..1',
    );
    expect(() => maxCycleMean(2, [{ from: 0, to: 1 }], [1, 2])).toThrow('expected 1 weights, got 2');
  });
});
