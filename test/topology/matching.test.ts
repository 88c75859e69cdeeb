import { describe, expect, it } from 'vitest';

import { maxWeightMatching, minWeightPerfectMatching } from '../../fleet/topology/index.ts';
import { mulberry32 } from '../../common/index.ts';

/** Cheapest perfect matching by trying them all (n <= 10: 945 matchings). */
function bruteForceCost(count: number, weight: (i: number, j: number) => number): number {
  const used = new Uint8Array(count);
  const best = (): number => {
    const first = used.indexOf(0);
    if (first < 0) return 0;
    used[first] = 1;
    let cheapest = Infinity;
    for (let j = first + 1; j < count; j++) {
      if (used[j] === 1) continue;
      used[j] = 1;
      cheapest = Math.min(cheapest, weight(first, j) + best());
      used[j] = 0;
    }
    used[first] = 0;
    return cheapest;
  };
  return best();
}

function matchingCost(mate: Int32Array, weight: (i: number, j: number) => number): number {
  let cost = 0;
  mate.forEach((j, i) => {
    if (j > i) cost += weight(i, j);
  });
  return cost;
}

describe('weighted matching (blossom)', () => {
  it('takes the heavier of two adjacent edges, and both ends of a path when that is heavier', () => {
    expect(
      Array.from(
        maxWeightMatching(
          3,
          [
            { u: 0, v: 1, weight: 10 },
            { u: 1, v: 2, weight: 11 },
          ],
          false,
        ),
      ),
    ).toEqual([-1, 2, 1]);
    const path = [
      { u: 0, v: 1, weight: 5 },
      { u: 1, v: 2, weight: 11 },
      { u: 2, v: 3, weight: 5 },
    ];
    expect(Array.from(maxWeightMatching(4, path, false))).toEqual([-1, 2, 1, -1]);
    expect(Array.from(maxWeightMatching(4, path, true))).toEqual([1, 0, 3, 2]);
  });

  it('solves a blossom: an odd cycle with a heavy pendant edge', () => {
    // Triangle 0-1-2 (weights 8, 9, 10) with pendant 2-3 (7): best is 0-1 and 2-3.
    const edges = [
      { u: 0, v: 1, weight: 8 },
      { u: 0, v: 2, weight: 9 },
      { u: 1, v: 2, weight: 10 },
      { u: 2, v: 3, weight: 7 },
    ];
    expect(Array.from(maxWeightMatching(4, edges, false))).toEqual([1, 0, 3, 2]);
  });

  it('finds the minimum-weight perfect matching of random complete graphs', () => {
    const random = mulberry32(3);
    for (let trial = 0; trial < 150; trial++) {
      const count = 2 * (1 + Math.floor(random() * 5));
      const w = Array.from({ length: count * count }, () => Math.round(random() * 1000) / 10);
      const weight = (i: number, j: number): number => w[Math.min(i, j) * count + Math.max(i, j)] ?? 0;
      const mate = minWeightPerfectMatching(count, weight);
      expect(Array.from(mate).every((j, i) => j >= 0 && mate[j] === i)).toBe(true);
      expect(matchingCost(mate, weight)).toBeCloseTo(bruteForceCost(count, weight), 9);
    }
  });

  it('rejects an odd vertex count for a perfect matching', () => {
    expect(() => minWeightPerfectMatching(3, () => 1)).toThrow(
      'a perfect matching needs an even vertex count, got 3',
    );
  });
});
