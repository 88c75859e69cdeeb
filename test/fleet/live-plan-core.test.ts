// The live plan's pure core: quantised measurements, signed rows and proposals refused for
// every kind of damage with its reason, the plan as a function of the measurement set alone
// (whatever order rows arrive in), the drift threshold and the order between proposals.
import { describe, expect, it } from 'vitest';

import { generateSiloKeys } from '../../fleet/exchange/index.ts';
import type { SiloKeys, TrustedKeys } from '../../fleet/exchange/index.ts';
import {
  drift,
  LinkEstimator,
  planFromRows,
  planningOptions,
  PlanSchedule,
  proposalId,
  quantiseBps,
  setHashOf,
  signProposal,
  signRow,
  verifyProposal,
  verifyRow,
} from '../../fleet/live-plan/index.ts';
import type { LinkMeasurement, MeasurementRow } from '../../fleet/live-plan/index.ts';
import { defaultPlan } from '../../fleet/silo/index.ts';

const IDS = ['a', 'b', 'c', 'd'];
const keys = new Map<string, SiloKeys>(IDS.map((id) => [id, generateSiloKeys()]));
const trusted: TrustedKeys = new Map(IDS.map((id) => [id, keys.get(id)!.publicKey]));
const options = planningOptions(IDS);

/** Every silo's links, RTT `rtt(from, to)` ms and a throughput that falls as the RTT grows. */
function rows(rtt: (from: string, to: string) => number, seq = 1): MeasurementRow[] {
  return IDS.map((silo) =>
    signRow(
      {
        fleet: 'f',
        silo,
        seq,
        links: IDS.filter((to) => to !== silo).map((to) => ({
          to,
          rttMs: rtt(silo, to),
          bps: quantiseBps(2.6e8 / rtt(silo, to)),
        })),
      },
      keys.get(silo)!,
    ),
  );
}
const even = rows(() => 4);
// Silo d answers slowly: everyone's RTT to d is 200 ms.
const slowD = rows((_, to) => (to === 'd' ? 200 : 4), 2);

function proposal(set: MeasurementRow[], o: { silo?: string; activationRound?: number; seq?: number } = {}) {
  const computed = planFromRows(set, options);
  const silo = o.silo ?? 'a';
  const p = signProposal(
    {
      fleet: 'f',
      silo,
      seq: o.seq ?? 1,
      epoch: 1,
      activationRound: o.activationRound ?? 5,
      rows: set,
      setHash: setHashOf(set),
      planHash: computed.hash,
    },
    keys.get(silo)!,
  );
  return { p, computed };
}

describe('measurements', () => {
  it('smooths probes and quantises RTT to ms and throughput to two significant digits', () => {
    const e = new LinkEstimator(0.5);
    e.observe('b', 10, 1000);
    e.observe('b', 20, 1000);
    e.observe('c', 0.2, 1000);
    // 15 ms; 1.6e6 and 8e5 bits/s average to 1.2e6; 0.2 ms rounds up to 1 ms.
    expect(e.links(['c', 'b', 'd'])).toEqual([
      { to: 'b', rttMs: 15, bps: 1_200_000 },
      { to: 'c', rttMs: 1, bps: 80_000_000 },
    ]);
    expect(quantiseBps(123_456)).toBe(120_000);
    expect(quantiseBps(7.4)).toBe(7);
  });
});

describe('signed rows and proposals', () => {
  const row = even[0]!;
  it('accepts a signed row and refuses damaged, forged and misplaced ones with the reason', () => {
    expect(verifyRow(row, 'a', 'f', trusted)).toEqual({ ok: true, value: row });
    const reason = (json: unknown, topic = 'a'): string => {
      const v = verifyRow(json, topic, 'f', trusted);
      return v.ok ? 'accepted' : v.reason;
    };
    expect(reason({ ...row, links: [{ ...row.links[0]!, rttMs: 5 }, ...row.links.slice(1)] })).toBe(
      'measurement row of silo a: bad signature',
    );
    expect(reason({ ...row, sig: undefined })).toBe(
      'malformed measurement row: sig: Invalid input: expected string, received undefined',
    );
    expect(reason({ ...row, links: [...row.links].reverse() })).toBe(
      'malformed measurement row: links: links must be sorted by peer id, once each, and never to the silo itself',
    );
    expect(reason({ ...row, links: [{ to: 'b', rttMs: -1, bps: 5 }] })).toBe(
      'malformed measurement row: links.0.rttMs: Too small: expected number to be >=1',
    );
    expect(reason('garbage')).toBe(
      'malformed measurement row: (root): Invalid input: expected object, received string',
    );
    expect(reason(row, 'b')).toBe("measurement row of silo a on silo b's topic");
    const forged = signRow({ fleet: 'f', silo: 'a', seq: 1, links: row.links }, keys.get('b')!);
    expect(reason(forged)).toBe('measurement row of silo a: bad signature');
    const stranger = signRow({ fleet: 'f', silo: 'x', seq: 1, links: row.links }, generateSiloKeys());
    expect(reason(stranger, 'x')).toBe('measurement row signed by unknown silo "x"');
    expect(verifyRow(row, 'a', 'g', trusted)).toEqual({
      ok: false,
      reason: 'measurement row of silo a is for fleet "f", not "g"',
    });
  });

  it('refuses a proposal whose rows, set hash or signature do not hold', () => {
    const { p } = proposal(even);
    expect(verifyProposal(p, 'a', 'f', trusted)).toEqual({ ok: true, value: p });
    const reason = (json: unknown): string => {
      const v = verifyProposal(json, 'a', 'f', trusted);
      return v.ok ? 'accepted' : v.reason;
    };
    expect(reason({ ...p, activationRound: 6 })).toBe('plan proposal of silo a: bad signature');
    // A row swapped for another signed row of the same silo: the set hash no longer matches.
    expect(reason({ ...p, rows: [slowD[0]!, ...p.rows.slice(1)] })).toMatch(
      /^plan proposal of silo a: set hash [0-9a-f]{64} but its rows hash to [0-9a-f]{64}$/,
    );
    const tampered = { ...p.rows[1]!, seq: 9 };
    expect(reason({ ...p, rows: [p.rows[0]!, tampered, ...p.rows.slice(2)] })).toBe(
      'plan proposal of silo a: measurement row of silo b: bad signature',
    );
    expect(reason({ ...p, rows: [...p.rows].reverse() })).toBe(
      'malformed plan proposal: rows: rows must be sorted by silo id, one per silo',
    );
  });
});

describe('the plan of a measurement set', () => {
  it('depends on the set only: rows in any order give the same plan and hash', () => {
    const reference = planFromRows(even, options);
    const orders = [
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
    ];
    for (const order of orders) {
      const permuted = order.map((i) => even[i]!);
      expect(planFromRows(permuted, planningOptions(['d', 'b', 'c', 'a'])).hash).toBe(reference.hash);
    }
    expect(reference.plan.ids).toEqual(IDS);
  });

  it('changes when delays change, and names a missing row', () => {
    expect(planFromRows(slowD, options).hash).not.toBe(planFromRows(even, options).hash);
    expect(() => planFromRows(even.slice(0, 3), options)).toThrow('the measurement set has no row from d');
  });
});

describe('drift', () => {
  const base: LinkMeasurement[] = [
    { to: 'b', rttMs: 100, bps: 1 },
    { to: 'c', rttMs: 4, bps: 1 },
  ];
  const at = (b: number, c: number): LinkMeasurement[] => [
    { to: 'b', rttMs: b, bps: 1 },
    { to: 'c', rttMs: c, bps: 1 },
  ];
  it('asks for a plan past 25% and past the absolute floor, not within either', () => {
    expect(drift(at(125, 4), base)).toBeUndefined();
    expect(drift(at(126, 4), base)).toBe('b: rtt 126 ms, 100 ms in the plan in force');
    expect(drift(at(74, 4), base)).toBe('b: rtt 74 ms, 100 ms in the plan in force');
    // 4 -> 20 ms is +400% but within the 20 ms floor: jitter on a fast link.
    expect(drift(at(100, 24), base)).toBeUndefined();
    expect(drift(at(100, 25), base)).toBe('c: rtt 25 ms, 4 ms in the plan in force');
    expect(drift(at(100, 4), undefined)).toBe('no measurements in the plan in force');
    expect(drift([...base, { to: 'd', rttMs: 1, bps: 1 }], base)).toBe(
      'd: not measured in the plan in force',
    );
  });
});

describe('the plan in force', () => {
  const initial = defaultPlan(IDS);
  const first = proposal(even, { activationRound: 5 });
  const second = proposal(slowD, { silo: 'b', activationRound: 9 });
  const rival = proposal(slowD, { silo: 'c', activationRound: 9 });

  it('switches at the activation round, whatever order proposals arrive in', () => {
    const orders = [
      [first, second, rival],
      [rival, second, first],
      [second, first, rival],
    ];
    const winner = [second, rival].sort((x, y) => (proposalId(x.p) < proposalId(y.p) ? -1 : 1))[0]!;
    for (const order of orders) {
      const s = new PlanSchedule(initial);
      for (const { p, computed } of order) expect(s.add(p, computed)).toBe(true);
      expect(s.add(first.p, first.computed)).toBe(false);
      expect(s.planAt(4)).toBe(initial);
      expect(s.entryAt(5)?.proposal).toBe(first.p);
      expect(s.entryAt(8)?.proposal).toBe(first.p);
      // Two proposals for round 9: the lower id wins on every silo.
      expect(s.entryAt(9)?.proposal).toBe(winner.p);
      expect(s.newest()?.proposal).toBe(winner.p);
    }
  });

  it('forgets proposals that can never be in force again', () => {
    const s = new PlanSchedule(initial);
    s.add(first.p, first.computed);
    s.add(second.p, second.computed);
    s.prune(8);
    expect(s.size).toBe(2);
    s.prune(9);
    expect(s.size).toBe(1);
    expect(s.entryAt(100)?.proposal).toBe(second.p);
  });
});
