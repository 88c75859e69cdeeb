// The silo's pure core: plan files, the round decision against the planner's mixing matrices,
// the timeout rule and the mixing rules.
import { describe, expect, it } from 'vitest';

import {
  decideRound,
  defaultPlan,
  FleetPlanError,
  mixModels,
  MixingError,
  parseMixRule,
  parsePlan,
  PLAN_FORMAT,
  planFileFromTopology,
  rejoinRound,
  resolveWeights,
} from '../../fleet/silo/index.ts';
import {
  DEFAULT_T_MAX,
  fleetFromConnectivity,
  connectivityFromNetwork,
  mixingMatrix,
  planTopology,
  PROFILES,
  syntheticNetwork,
} from '../../fleet/topology/index.ts';
import { arrivingRound, IDS, mixedPlan } from './silo-plans.ts';

describe('decideRound', () => {
  it('gives every silo the weights of the mixing matrix and the model round of the arc history', () => {
    for (const plan of [mixedPlan(), defaultPlan(IDS)]) {
      const n = plan.ids.length;
      const { stateCount } = plan.multigraph;
      for (let k = 0; k < 3 * stateCount + 2; k++) {
        const matrix = mixingMatrix(plan.multigraph, k % stateCount);
        plan.ids.forEach((id, i) => {
          const d = decideRound(plan, id, k);
          expect(d.selfWeight).toBe(matrix[i * n + i]);
          const row = new Float64Array(n);
          row[i] = d.selfWeight;
          for (const p of d.peers) row[plan.ids.indexOf(p.peer)]! += p.weight;
          expect([...row]).toEqual([...matrix.subarray(i * n, (i + 1) * n)]);
          expect(d.isolated).toBe(d.peers.length === 0);
          for (const p of d.peers) {
            const e = plan.multigraph.overlay.arcs.findIndex(
              (a) => a.to === i && a.from === plan.ids.indexOf(p.peer),
            );
            expect(p.round, `round ${k}, ${p.peer} -> ${id}`).toBe(arrivingRound(plan, e, k));
            expect(p.fresh).toBe(p.round === k);
          }
          // Weak and strong in-neighbours partition the in-arcs.
          const inArcs = plan.multigraph.overlay.arcs.filter((a) => a.to === i).length;
          expect(d.peers.length + d.weak.length).toBe(inArcs);
        });
      }
    }
  });

  it('isolates a silo whose in-arcs are all weak: weight 1 on its own model, nobody to wait for', () => {
    const d = decideRound(mixedPlan(), 'rb-c', 1); // b->c (n 2) and a->c (n 3) are weak in round 1
    expect(d).toEqual({ round: 1, isolated: true, selfWeight: 1, peers: [], weak: ['rb-b', 'rb-a'] });
  });

  it('uses the model sent when the arc turned weak over an arc that turned strong', () => {
    const d = decideRound(mixedPlan(), 'rb-c', 6);
    expect(d.peers).toEqual([
      { peer: 'rb-b', round: 5, weight: 0.15, fresh: false },
      { peer: 'rb-a', round: 4, weight: 0.15, fresh: false },
    ]);
    expect(decideRound(mixedPlan(), 'rb-b', 6).peers).toEqual([
      { peer: 'rb-a', round: 6, weight: 0.3, fresh: true },
    ]);
  });

  it('refuses an id that is not in the fleet, naming the fleet', () => {
    expect(() => decideRound(mixedPlan(), 'rb-z', 0)).toThrow(
      'plan: silo "rb-z" is not in the fleet (rb-a, rb-b, rb-c, rb-d)',
    );
  });
});

describe('resolveWeights', () => {
  it('keeps the planned weights when everything arrived', () => {
    const d = decideRound(mixedPlan(), 'rb-c', 0);
    expect(resolveWeights(d, new Set(['rb-a', 'rb-b']))).toEqual({
      selfWeight: 0.7,
      peers: d.peers,
      missing: [],
    });
  });

  it('scales the remaining weights to sum to 1 when a peer timed out', () => {
    const d = decideRound(mixedPlan(), 'rb-c', 0);
    const r = resolveWeights(d, new Set(['rb-a']));
    expect(r.selfWeight).toBeCloseTo(0.7 / 0.85, 15);
    expect(r.peers).toEqual([{ peer: 'rb-a', round: 0, weight: 0.15 / 0.85, fresh: true }]);
    expect(r.missing.map((p) => p.peer)).toEqual(['rb-b']);
    expect(resolveWeights(d, new Set()).selfWeight).toBe(1);
  });
});

describe('rejoinRound', () => {
  it('joins at the newest round a peer published, never before its own next round', () => {
    expect(rejoinRound(3, [undefined, 7, 5])).toBe(7);
    expect(rejoinRound(9, [7, undefined])).toBe(9);
    expect(rejoinRound(0, [])).toBe(0);
  });
});

describe('plan files', () => {
  it('reads the default overlay as a directed ring over the sorted ids, strong every round', () => {
    const plan = defaultPlan(['rb-c', 'rb-a', 'rb-b']);
    expect(plan.ids).toEqual(['rb-a', 'rb-b', 'rb-c']);
    expect(plan.multigraph.overlay.arcs).toEqual([
      { from: 0, to: 1 },
      { from: 1, to: 2 },
      { from: 2, to: 0 },
    ]);
    expect([...plan.multigraph.multiplicity]).toEqual([1, 1, 1]);
    expect(plan.multigraph.stateCount).toBe(1);
  });

  it('names what is wrong with a plan', () => {
    const base = { format: PLAN_FORMAT, silos: ['a', 'b'], arcs: [{ from: 'a', to: 'b' }] };
    const cases: [unknown, string][] = [
      [{ ...base, silos: ['a', 'a'] }, 'p.json: silo "a" is listed twice'],
      [{ ...base, arcs: [{ from: 'a', to: 'x' }] }, 'p.json: arcs.0: "x" is not in silos'],
      [{ ...base, arcs: [{ from: 'a', to: 'a' }] }, 'p.json: arcs.0: "a" links to itself'],
      [
        { ...base, arcs: [{ from: 'a', to: 'b', multiplicity: 2, phase: 2 }] },
        'p.json: arcs.0: phase 2 must be below multiplicity 2',
      ],
      [
        { ...base, arcs: [base.arcs[0], { from: 'a', to: 'b' }] },
        'p.json: arcs.1: "a" -> "b" is listed twice',
      ],
      [{ ...base, format: 'other' }, `p.json: format: Invalid input: expected "${PLAN_FORMAT}"`],
      [{ ...base, silos: ['a', 'b.c'] }, "p.json: silos.1: a silo id is 1-64 letters, digits, '-' or '_'"],
    ];
    for (const [json, message] of cases) {
      expect(() => parsePlan(json, 'p.json')).toThrow(FleetPlanError);
      expect(() => parsePlan(json, 'p.json')).toThrow(message);
    }
    expect(() => defaultPlan(['solo'])).toThrow('--silos: a fleet needs at least 2 silos, got 1');
  });

  it('round-trips a topology plan: same arcs, multiplicities and mixing matrices', () => {
    const network = syntheticNetwork({ silos: 6, seed: 3 });
    const fleet = fleetFromConnectivity(connectivityFromNetwork(network), {
      ...PROFILES['fadnet-gazebo'],
      uplinkBps: 1e10,
      downlinkBps: 1e10,
    });
    const topology = planTopology(fleet, { overlays: ['multigraph'], tMax: DEFAULT_T_MAX, rounds: 10 });
    const ids = fleet.names.map((_, i) => `robot-${i}`);
    const plan = parsePlan(JSON.parse(JSON.stringify(planFileFromTopology(topology, ids))), 'plan.json');
    const planned = topology.multigraph!.multigraph;
    expect([...plan.multigraph.multiplicity]).toEqual([...planned.multiplicity]);
    expect(plan.multigraph.stateCount).toBe(planned.stateCount);
    for (let s = 0; s < planned.stateCount; s++) {
      expect([...mixingMatrix(plan.multigraph, s)]).toEqual([...mixingMatrix(planned, s)]);
    }
  });
});

describe('mixModels', () => {
  const model = (values: number[]): Map<string, Float32Array> =>
    new Map([
      ['conv.weight', Float32Array.from(values)],
      ['bn.running_var', Float32Array.from(values, (v) => Math.abs(v) + 1)],
    ]);

  it('averages every tensor with the given weights, running statistics included', () => {
    const a = model([1, 2, 3]);
    const b = model([3, -2, 1]);
    const mixed = mixModels([
      { weights: a, weight: 0.75 },
      { weights: b, weight: 0.25 },
    ]);
    expect([...mixed.get('conv.weight')!]).toEqual([1.5, 1, 2.5]);
    expect([...mixed.get('bn.running_var')!]).toEqual([2.5, 3, 3.5]);
    expect([...a.get('conv.weight')!]).toEqual([1, 2, 3]); // inputs untouched
  });

  it('takes the coordinate-wise median and trimmed mean, ignoring the weights', () => {
    const models = [
      [0, 10, 5],
      [1, -4, 5],
      [100, 2, 5],
      [2, 3, 5],
      [-50, 1, 5],
    ].map((v) => ({
      weights: model(v),
      weight: 0.2,
    }));
    expect([...mixModels(models, { kind: 'median' }).get('conv.weight')!]).toEqual([1, 2, 5]);
    expect([...mixModels(models, { kind: 'trimmed-mean', trim: 0.2 }).get('conv.weight')!]).toEqual([
      1, 2, 5,
    ]);
    expect([...mixModels(models.slice(0, 4), { kind: 'median' }).get('conv.weight')!]).toEqual([1.5, 2.5, 5]);
  });

  it('refuses models that do not match and weights that do not sum to 1', () => {
    const odd = new Map([['conv.weight', new Float32Array(2)]]);
    expect(() =>
      mixModels([
        { weights: model([1, 2, 3]), weight: 0.5 },
        { weights: odd, weight: 0.5 },
      ]),
    ).toThrow(new MixingError('model 1 has 1 tensors, model 0 has 2'));
    expect(() =>
      mixModels([
        { weights: model([1, 2, 3]), weight: 0.5 },
        { weights: model([1, 2, 3]), weight: 0.4 },
      ]),
    ).toThrow('mixing weights must be >= 0 and sum to 1, got 0.5, 0.4');
  });

  it('parses mixing rules by name', () => {
    expect(parseMixRule('median')).toEqual({ kind: 'median' });
    expect(parseMixRule('trimmed-mean')).toEqual({ kind: 'trimmed-mean', trim: 0.2 });
    expect(parseMixRule('trimmed-mean:0.1')).toEqual({ kind: 'trimmed-mean', trim: 0.1 });
    expect(() => parseMixRule('trimmed-mean:0.5')).toThrow('trimmed-mean trim must be in [0, 0.5), got 0.5');
    expect(() => parseMixRule('max')).toThrow(
      'mixing rule must be mean, median or trimmed-mean[:T], got "max"',
    );
  });
});
