// The simulation's fleet: plan files for each topology on a paper network, and the emulated
// link delays, which must be the planner's d(u, v) with the overlay's degrees, less Tc, scaled.
import { describe, expect, it } from 'vitest';

import { FleetSimConfigError, buildScenario, linkKey } from '../../fleet/sim/index.ts';
import { parsePlan } from '../../fleet/silo/index.ts';
import {
  connectivityFromNetwork,
  fleetFromConnectivity,
  linkDelay,
  paperNetworkPath,
  planTopology,
  PROFILES,
  readNetworkFile,
} from '../../fleet/topology/index.ts';

const gaia = await readNetworkFile(paperNetworkPath('gaia'));

describe('buildScenario', () => {
  it('gives the ring the planner plans on the whole network when all its silos take part', () => {
    const n = gaia.nodes.length;
    const s = buildScenario({ silos: n, topology: 'ring', network: gaia, profile: 'femnist', delayScale: 1 });
    const profile = PROFILES.femnist;
    const fleet = fleetFromConnectivity(connectivityFromNetwork(gaia), {
      modelBits: profile.modelBits,
      computeMs: profile.computeMs,
      uplinkBps: 1e10,
      downlinkBps: 1e10,
    });
    const ring = planTopology(fleet, { overlays: ['ring'], tMax: 5, rounds: 10 }).ring!;
    expect(s.plan.arcs.map((a) => [a.from, a.to])).toEqual(
      ring.overlay.arcs.map((a) => [`s${a.from}`, `s${a.to}`]),
    );
    // The published Gaia femnist RING cycle time (multigraph.md 8).
    expect(s.plannedCycleMs).toBeCloseTo(57.2, 1);
    for (const a of ring.overlay.arcs) {
      const expected = linkDelay(fleet, a.from, a.to, 1, 1) - profile.computeMs;
      expect(s.linkDelayMs.get(linkKey(`s${a.from}`, `s${a.to}`))).toBeCloseTo(expected, 9);
    }
  });

  it('scales delays, counts the star server degrees, and plans a multigraph the silo can parse', () => {
    const star = buildScenario({
      silos: 4,
      topology: 'star',
      network: gaia,
      profile: 'fadnet-gazebo',
      delayScale: 1,
    });
    const scaled = buildScenario({
      silos: 4,
      topology: 'star',
      network: gaia,
      profile: 'fadnet-gazebo',
      delayScale: 50,
    });
    for (const [k, d] of star.linkDelayMs) expect(scaled.linkDelayMs.get(k)).toBeCloseTo(d * 50, 6);
    expect(star.plan.arcs).toHaveLength(6);

    const mg = buildScenario({
      silos: 4,
      topology: 'multigraph',
      network: gaia,
      profile: 'fadnet-gazebo',
      delayScale: 1,
    });
    const plan = parsePlan(mg.plan, 'scenario');
    expect(plan.ids).toEqual(['s0', 's1', 's2', 's3']);
    expect(Math.max(...plan.multigraph.multiplicity)).toBeGreaterThan(1);
    const ring = buildScenario({
      silos: 4,
      topology: 'ring',
      network: gaia,
      profile: 'fadnet-gazebo',
      delayScale: 1,
    });
    expect(mg.plannedCycleMs).toBeLessThan(ring.plannedCycleMs);
  });

  it('emulates no delay without a network, and refuses what cannot run', () => {
    const s = buildScenario({ silos: 3, topology: 'mst', profile: 'fadnet-gazebo', delayScale: 10 });
    expect(s.linkDelayMs.size).toBe(0);
    expect(parsePlan(s.plan, 'scenario').ids).toHaveLength(3);
    expect(() => buildScenario({ silos: 1, topology: 'ring', profile: 'femnist', delayScale: 1 })).toThrow(
      new FleetSimConfigError('a fleet needs at least 2 silos, got 1'),
    );
    expect(() =>
      buildScenario({ silos: 40, topology: 'ring', network: gaia, profile: 'femnist', delayScale: 1 }),
    ).toThrow(`the network has ${gaia.nodes.length} silos, fewer than the 40 asked for`);
    expect(() => buildScenario({ silos: 3, topology: 'ring', profile: 'femnist', delayScale: -1 })).toThrow(
      'the delay scale must be a number >= 0, got -1',
    );
  });
});
