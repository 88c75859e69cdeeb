// The dashboard's overlay from the live plan: the default ring until a retained proposal's
// activation round comes, then the plan its measurement rows give, each link strong or weak by
// the round; a proposal whose rows do not give its plan hash is refused with the reason.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FleetSubscriber, FleetView } from '../../fleet/dashboard/index.ts';
import { generateSiloKeys } from '../../fleet/exchange/index.ts';
import {
  planFromRows,
  planningOptions,
  setHashOf,
  signProposal,
  signRow,
} from '../../fleet/live-plan/index.ts';
import { simulatedRecord, telemetryTopic } from '../../fleet/telemetry/index.ts';
import { startAedes, type TestBroker } from '../fleet/brokers.ts';
import { until } from '../helpers/until.ts';

const FLEET = 'lp';
const IDS = ['silo-a', 'silo-b', 'silo-c'];
let broker: TestBroker;

beforeAll(async () => {
  broker = await startAedes('live-plan-overlay');
});

afterAll(async () => {
  await broker.dispose();
});

describe('dashboard overlay from the live plan', () => {
  it('draws the default ring, then the proposal in force from its activation round', async () => {
    const keys = IDS.map(() => generateSiloKeys());
    // silo-c is far from silo-a: the planner gives that pair's arcs higher multiplicities.
    const rtt = (a: number, b: number): number => (a + b === 2 ? 400 : 10);
    const rows = IDS.map((silo, i) =>
      signRow(
        {
          fleet: FLEET,
          silo,
          seq: 1,
          links: IDS.flatMap((to, j) => (j === i ? [] : [{ to, rttMs: rtt(i, j), bps: 100_000_000 }])),
        },
        keys[i]!,
      ),
    );
    const computed = planFromRows(rows, planningOptions(IDS));
    const proposal = signProposal(
      {
        fleet: FLEET,
        silo: 'silo-a',
        seq: 1,
        epoch: 1,
        activationRound: 2,
        rows,
        setHash: setHashOf(rows),
        planHash: computed.hash,
      },
      keys[0]!,
    );
    const forged = signProposal(
      { ...proposal, silo: 'silo-b', activationRound: 1, planHash: 'f'.repeat(64) },
      keys[1]!,
    );

    const view = new FleetView({ fleet: FLEET });
    const logs: string[] = [];
    const subscriber = await FleetSubscriber.connect({ url: broker.url, view, log: (l) => logs.push(l) });
    const client = await mqtt.connectAsync(broker.url);
    const report = async (round: number): Promise<void> => {
      for (const [i, id] of IDS.entries()) {
        const r = simulatedRecord(FLEET, { id, modelVersion: '1.1.0' }, i, round * 5, Date.now());
        await client.publishAsync(telemetryTopic(FLEET, id), JSON.stringify(r), { qos: 1 });
      }
      await until(
        `every robot at round ${round}`,
        () => view.robots().filter((r) => r.telemetry?.training?.round === round).length === IDS.length,
      );
      subscriber.refreshPlan();
    };
    await client.publishAsync(`fleet/${FLEET}/plan/proposals/silo-a`, JSON.stringify(proposal), {
      qos: 1,
      retain: true,
    });
    await client.publishAsync(`fleet/${FLEET}/plan/proposals/silo-b`, JSON.stringify(forged), {
      qos: 1,
      retain: true,
    });

    await report(1);
    expect(logs).toEqual([
      `fleet view: plan proposal of silo-b refused: its rows give plan ${computed.hash.slice(0, 12)}, it names ffffffffffff`,
    ]);
    const before = view.overlay()!;
    expect([before.source, before.round, before.links]).toEqual([
      'default ring over the 3 robots seen (no plan file, no live plan)',
      1,
      [
        { from: 'silo-a', to: 'silo-b', state: 'strong' },
        { from: 'silo-b', to: 'silo-c', state: 'strong' },
        { from: 'silo-c', to: 'silo-a', state: 'strong' },
      ],
    ]);

    for (const round of [2, 3]) {
      await report(round);
      const o = view.overlay()!;
      expect(o.source).toBe(
        'live plan epoch 1 from silo-a, in force from round 2 (signatures not checked here)',
      );
      const expected = computed.file.arcs
        .map((a) => ({
          from: a.from,
          to: a.to,
          state: round % (a.multiplicity ?? 1) === (a.phase ?? 0) ? 'strong' : 'weak',
        }))
        .sort((x, y) => (`${x.from}>${x.to}` < `${y.from}>${y.to}` ? -1 : 1));
      expect(o.links).toEqual(expected);
    }
    // The plan has both states over rounds 2 and 3, so the test says something about each.
    expect(computed.file.arcs.some((a) => (a.multiplicity ?? 1) > 1)).toBe(true);
    await client.endAsync();
    await subscriber.close();
  });
});
