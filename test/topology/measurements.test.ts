import { describe, expect, it } from 'vitest';

import {
  fleetFromMeasurements,
  linkDelay,
  MeasurementsError,
  OVERLAY_NAMES,
  parseMeasurements,
  planTopology,
  PROFILES,
  simulate,
} from '../../fleet/topology/index.ts';
import type { Fleet, Measurements } from '../../fleet/topology/index.ts';
import { paperFleet } from './networks.ts';

// M = 1e6 bits, Tc = 5 ms, access 1e10 bit/s: upload and download delays are 0.1 ms each.
const workload = { modelBits: 1e6, computeMs: 5, uplinkBps: 1e10, downlinkBps: 1e10 };

function triangle(latencyAC: number): Measurements {
  return parseMeasurements({
    silos: [{ name: 'A' }, { name: 'B' }, { name: 'C' }],
    links: [
      { from: 'A', to: 'B', latencyMs: 10, bandwidthBps: 1e9 },
      { from: 'B', to: 'C', latencyMs: 20, bandwidthBps: 1e8 },
      { from: 'A', to: 'C', latencyMs: latencyAC, bandwidthBps: 1e9 },
    ],
  });
}

function measurementsOf(fleet: Fleet): unknown {
  const links = [];
  for (let u = 0; u < fleet.size; u++) {
    for (let v = u + 1; v < fleet.size; v++) {
      links.push({
        from: fleet.names[u],
        to: fleet.names[v],
        latencyMs: fleet.latencyMs[u * fleet.size + v],
        bandwidthBps: (fleet.bandwidth[u * fleet.size + v] ?? 0) * 1000,
      });
    }
  }
  return { silos: fleet.names.map((name) => ({ name })), links };
}

describe('fleets from measurements', () => {
  it('gives the delays of section 2, the reverse direction filled from the given one', () => {
    const fleet = fleetFromMeasurements(triangle(30), workload);
    // d = Tc + latency + max(upload, download, M / bandwidth)
    expect(linkDelay(fleet, 0, 1)).toBe(16);
    expect(linkDelay(fleet, 1, 0)).toBe(16);
    expect(linkDelay(fleet, 1, 2)).toBe(35);
    expect(linkDelay(fleet, 0, 2)).toBe(36);
    // With an out-degree of 20, the upload (20 * 0.1 ms) outgrows M / bandwidth (1 ms).
    expect(linkDelay(fleet, 0, 1, 20, 1)).toBe(17);
  });

  it('plans the ring and simulates the multigraph as computed by hand', () => {
    const fleet = fleetFromMeasurements(triangle(30), workload);
    const plan = planTopology(fleet, { overlays: ['ring', 'multigraph', 'mst'], tMax: 5, rounds: 4 });
    // Prim 0-1, 1-2; matching 0-2; circuit popped 0, 2, 1, 0: ring 0 -> 2 -> 1 -> 0 = (36 + 35 + 16) / 3.
    expect(plan.ring?.overlay.order).toEqual([0, 2, 1]);
    expect(plan.ring?.cycleTimeMs).toBe(29);
    expect(plan.mst?.cycleTimeMs).toBe(35);
    const multigraph = plan.multigraph?.multigraph;
    expect(Array.from(multigraph?.multiplicity ?? [])).toEqual([2, 2, 1]);
    // Round 0: all strong, 87 / 3. Round 1: only 1 -> 0 (16 ms). Round 2: the two slow arcs
    // resume with 16 / 3 ms already transferred: max(5, 36 - 16/3) + max(5, 35 - 16/3) + 16.
    const roundMs = Array.from(plan.multigraph?.roundMs ?? []);
    const weak = 16 / 3;
    const resumed = (36 - weak + (35 - weak) + 16) / 3;
    expect(roundMs[0]).toBe(29);
    expect(roundMs[1]).toBeCloseTo(weak, 12);
    expect(roundMs[2]).toBeCloseTo(resumed, 12);
    expect(roundMs[3]).toBeCloseTo(weak, 12);
    expect(plan.multigraph?.cycleTimeMs).toBeCloseTo((29 + weak + resumed + weak) / 4, 12);
    if (multigraph !== undefined)
      expect(simulate(fleet, multigraph, 4).roundMs).toEqual(plan.multigraph?.roundMs);
  });

  it('puts the STAR server on the silo with the highest load centrality', () => {
    // A -> C is shorter through B (10 + 20 < 40), so B carries load and becomes the server.
    const fleet = fleetFromMeasurements(triangle(40), workload);
    const plan = planTopology(fleet, { overlays: ['star'], tMax: 5, rounds: 1 });
    expect(plan.star?.overlay.server).toBe(1);
    // lambda = the B <-> C two-cycle, 35 ms; reported (35 - 5) * 2 + 5.
    expect(plan.star?.cycleTimeMs).toBe(65);
  });

  it('uses each silo its own compute time and access capacity', () => {
    const measurements = parseMeasurements({
      modelBits: 2e6,
      silos: [{ name: 'A', computeMs: 9, uplinkBps: 1e8 }, { name: 'B' }],
      links: [{ from: 'A', to: 'B', latencyMs: 10, bandwidthBps: 1e9 }],
    });
    const fleet = fleetFromMeasurements(measurements, workload);
    // A: Tc 9 ms, upload 2e6 / 1e5 = 20 ms; B: Tc 5 ms, 2e6 / 1e7 = 0.2 ms; M / bandwidth 2 ms.
    expect(linkDelay(fleet, 0, 1)).toBe(39);
    expect(linkDelay(fleet, 1, 0)).toBe(17);
  });

  it('gives the same plan as the network file when fed its connectivity graph', () => {
    const fromFile = paperFleet('gaia');
    const fleet = fleetFromMeasurements(parseMeasurements(measurementsOf(fromFile)), {
      modelBits: PROFILES.femnist.modelBits,
      computeMs: PROFILES.femnist.computeMs,
      uplinkBps: 1e10,
      downlinkBps: 1e10,
    });
    const plan = planTopology(fleet, { overlays: OVERLAY_NAMES, tMax: 5, rounds: PROFILES.femnist.rounds });
    expect(
      [plan.star, plan.mst, plan.deltaMbst, plan.ring, plan.multigraph].map((p) => p?.cycleTimeMs.toFixed(1)),
    ).toEqual(['289.8', '77.2', '77.2', '57.2', '15.7']);
  });

  it('rejects invalid measurements with the reason', () => {
    const twoSilos = [{ name: 'A' }, { name: 'B' }];
    expect(() =>
      parseMeasurements(
        { silos: twoSilos, links: [{ from: 'A', to: 'B', latencyMs: -1, bandwidthBps: 1e9 }] },
        'm.json',
      ),
    ).toThrow(MeasurementsError);
    expect(() => parseMeasurements({ silos: [{ name: 'A' }], links: [] }, 'm.json')).toThrow(
      /^m\.json: .*silos/s,
    );
    const missing = parseMeasurements({
      silos: [...twoSilos, { name: 'C' }],
      links: [{ from: 'A', to: 'B', latencyMs: 1, bandwidthBps: 1e9 }],
    });
    expect(() => fleetFromMeasurements(missing, workload)).toThrow(
      'no measurement between "A" and "C" (either direction)',
    );
    const unknown = parseMeasurements({
      silos: twoSilos,
      links: [{ from: 'A', to: 'Z', latencyMs: 1, bandwidthBps: 1e9 }],
    });
    expect(() => fleetFromMeasurements(unknown, workload)).toThrow('link 0 names unknown silo "Z"');
    const twice = parseMeasurements({
      silos: twoSilos,
      links: [
        { from: 'A', to: 'B', latencyMs: 1, bandwidthBps: 1e9 },
        { from: 'A', to: 'B', latencyMs: 2, bandwidthBps: 1e9 },
      ],
    });
    expect(() => fleetFromMeasurements(twice, workload)).toThrow('link 1: "A" -> "B" is measured twice');
    const duplicate = parseMeasurements({ silos: [{ name: 'A' }, { name: 'A' }], links: [] });
    expect(() => fleetFromMeasurements(duplicate, workload)).toThrow('silo "A" is listed twice');
  });
});
