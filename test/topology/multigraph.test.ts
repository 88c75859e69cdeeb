import { describe, expect, it } from 'vitest';

import {
  buildMultigraph,
  isolatedSilos,
  isStrong,
  mixingMatrix,
  planTopology,
  roundSchedule,
  ringOverlay,
  siloRounds,
  stateOfRound,
} from '../../fleet/topology/index.ts';
import { roundHalfEven } from '../../common/index.ts';
import { hasEmptyState, withMultiplicities } from '../../fleet/topology/multigraph.ts';
import { ringFromOrder } from '../../fleet/topology/christofides.ts';
import { paperFleet } from './networks.ts';

describe('the multigraph and its states', () => {
  const fleet = paperFleet('gaia');
  const multigraph = buildMultigraph(fleet, ringOverlay(fleet), 5);

  it('rounds d / d_min as Python does (halves to even)', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3]);
  });

  it('gives every Gaia ring edge n = min(t_max, round(d / d_min)) and s_max = lcm', () => {
    expect(Array.from(multigraph.multiplicity)).toEqual([4, 5, 1, 3, 2, 3, 4, 1, 4, 1, 2]);
    expect(multigraph.stateCount).toBe(60);
    expect(Array.from(buildMultigraph(fleet, ringOverlay(fleet), 3).multiplicity)).toEqual([
      3, 3, 1, 3, 2, 3, 3, 1, 3, 1, 2,
    ]);
  });

  it('makes an edge strong in state 0 and then every n(u, v) states, weak otherwise', () => {
    multigraph.multiplicity.forEach((n, e) => {
      for (let s = 0; s < multigraph.stateCount; s++) expect(isStrong(multigraph, e, s)).toBe(s % n === 0);
    });
    expect(stateOfRound(multigraph, 6400)).toBe(40);
  });

  it('isolates the silos whose in-edges are all weak', () => {
    expect(isolatedSilos(multigraph, 0)).toEqual([]);
    // In-edges with n = 1 (3 -> 4, 6 -> 5, 2 -> 1) keep silos 4, 5 and 1 connected in every state.
    expect(isolatedSilos(multigraph, 1)).toEqual([0, 2, 3, 6, 7, 8, 9, 10]);
    expect(isolatedSilos(multigraph, 2)).toEqual([2, 3, 6, 8, 9, 10]);
    expect(isolatedSilos(multigraph, 12)).toEqual([3]);
  });

  it('detects states without any strong edge in hand-made schedules', () => {
    const ring = ringFromOrder([0, 1, 2]);
    const delays = new Float64Array([1, 1, 1]);
    expect(hasEmptyState(withMultiplicities(ring, delays, new Int32Array([2, 2, 1]), 5))).toBe(false);
    expect(hasEmptyState(withMultiplicities(ring, delays, new Int32Array([2, 3, 2]), 5))).toBe(true);
    expect(
      hasEmptyState(
        withMultiplicities(ring, delays, new Int32Array([2, 2, 2]), 5, new Int32Array([0, 1, 0])),
      ),
    ).toBe(false);
    expect(() => withMultiplicities(ring, delays, new Int32Array([2, 6, 1]), 5)).toThrow(
      'multiplicity 6 of arc 1 is outside 1..t_max (5)',
    );
    expect(() =>
      withMultiplicities(ring, delays, new Int32Array([2, 2, 1]), 5, new Int32Array([2, 0, 0])),
    ).toThrow('phase 2 of arc 0 is outside 0..1');
  });
});

describe('mixing: what a silo follows at run time', () => {
  const fleet = paperFleet('gaia');
  const multigraph = buildMultigraph(fleet, ringOverlay(fleet), 5);

  it('weights 0.7 own and 0.3 over strong in-neighbours, 1.0 when isolated; rows sum to 1', () => {
    const n = fleet.size;
    for (const state of [0, 1, 2, 12]) {
      const matrix = mixingMatrix(multigraph, state);
      const isolated = new Set(isolatedSilos(multigraph, state));
      for (let i = 0; i < n; i++) {
        const row = Array.from(matrix.subarray(i * n, (i + 1) * n));
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 15);
        expect(row[i]).toBe(isolated.has(i) ? 1 : 0.7);
      }
    }
  });

  it('lists strong and weak in-neighbours with the age of the arriving model', () => {
    // Silo 10's only in-edge is 0 -> 10 with n = 4: strong in rounds 0, 4, 8, ...
    const at = (round: number) => siloRounds(multigraph, round)[10];
    expect(at(0)).toEqual({
      silo: 10,
      isolated: false,
      selfWeight: 0.7,
      strong: [{ silo: 0, staleness: 0, weight: 0.3 }],
      weak: [],
    });
    expect(at(1)).toEqual({ silo: 10, isolated: true, selfWeight: 1, strong: [], weak: [0] });
    // Round 4: the model 0 sent when the edge turned weak, three weak rounds ago.
    expect(at(4)?.strong).toEqual([{ silo: 0, staleness: 3, weight: 0.3 }]);
    // Silo 4's in-edge 3 -> 4 has n = 1: the model of this very round.
    expect(siloRounds(multigraph, 7)[4]?.strong).toEqual([{ silo: 3, staleness: 0, weight: 0.3 }]);
  });

  it('serves the schedule of a plan round by round, the improved one when planned', () => {
    const plan = planTopology(fleet, {
      overlays: ['multigraph'],
      tMax: 5,
      rounds: 60,
      improve: { keepMixing: true },
    });
    const improved = plan.improved?.multigraph;
    expect(improved).toBeDefined();
    const schedule = roundSchedule(plan, 61);
    expect(schedule).toHaveLength(11);
    if (improved !== undefined) expect(schedule).toEqual(siloRounds(improved, 61));
    const baselineOnly = planTopology(fleet, { overlays: ['multigraph'], tMax: 5, rounds: 60 });
    expect(
      roundSchedule(baselineOnly, 1)
        .filter((s) => s.isolated)
        .map((s) => s.silo),
    ).toEqual([0, 2, 3, 6, 7, 8, 9, 10]);
    expect(() => roundSchedule(planTopology(fleet, { overlays: ['star'], tMax: 5, rounds: 1 }), 0)).toThrow(
      'the plan has no multigraph',
    );
  });
});
