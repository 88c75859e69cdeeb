import { describe, expect, it } from 'vitest';

import {
  connectivityFromNetwork,
  DisconnectedNetworkError,
  fleetFromMeasurements,
  OVERLAY_NAMES,
  parseGml,
  parseMeasurements,
  planTopology,
  syntheticNetwork,
} from '../../fleet/topology/index.ts';
import { eulerCircuit, primFromZero } from '../../fleet/topology/christofides.ts';
import { cubeHamiltonianPath, degreeBoundedPrim } from '../../fleet/topology/mbst.ts';
import { minimumSpanningTree } from '../../fleet/topology/overlays.ts';
import { mulberry32 } from '../../common/index.ts';

function treeDistances(size: number, tree: readonly (readonly [number, number])[], from: number): Int32Array {
  const neighbours: number[][] = Array.from({ length: size }, () => []);
  for (const [u, v] of tree) {
    neighbours[u]?.push(v);
    neighbours[v]?.push(u);
  }
  const distance = new Int32Array(size).fill(-1);
  distance[from] = 0;
  const queue = [from];
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head] ?? 0;
    for (const v of neighbours[u] ?? []) {
      if (distance[v] === -1) {
        distance[v] = (distance[u] ?? 0) + 1;
        queue.push(v);
      }
    }
  }
  return distance;
}

describe('overlay building blocks', () => {
  it('walks the Euler circuit in the specified order and returns silos as they are popped', () => {
    // Tree 0-1, 1-2, 1-3: every silo has odd degree; matching 0-3 and 1-2 (1-2 is also a tree
    // edge, so it is there twice).
    const tree: [number, number][] = [
      [0, 1],
      [1, 2],
      [1, 3],
    ];
    const partner = Int32Array.from([3, 2, 1, 0]);
    // Pushed: 0, 1 (tree), 2 (tree copy), 1 (matching copy), 3, 0; then everything is popped.
    expect(eulerCircuit(4, tree, partner)).toEqual([0, 3, 1, 2, 1, 0]);
  });

  it('runs Prim from silo 0, ties to the earliest tree silo then the lowest new one', () => {
    const weight = (u: number, v: number): number => (u === 0 || v === 0 ? 1 : 2);
    expect(primFromZero(4, weight)).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
  });

  it('bounds degrees in delta-Prim and keeps cube paths within three tree edges', () => {
    const random = mulberry32(11);
    for (let trial = 0; trial < 30; trial++) {
      const size = 3 + Math.floor(random() * 30);
      const w = Array.from({ length: size * size }, () => random());
      const weight = (u: number, v: number): number => w[Math.min(u, v) * size + Math.max(u, v)] ?? 0;
      const bounded = degreeBoundedPrim(size, weight, 2);
      const degree = new Int32Array(size);
      for (const [u, v] of bounded) {
        degree[u] = (degree[u] ?? 0) + 1;
        degree[v] = (degree[v] ?? 0) + 1;
      }
      expect(bounded).toHaveLength(size - 1);
      expect(Math.max(...degree)).toBeLessThanOrEqual(2);
      const tree = minimumSpanningTree(size, weight);
      const path = cubeHamiltonianPath(size, tree);
      expect([...path].sort((a, b) => a - b)).toEqual(Array.from({ length: size }, (_, i) => i));
      for (let i = 1; i < path.length; i++) {
        expect(treeDistances(size, tree, path[i - 1] ?? 0)[path[i] ?? 0]).toBeLessThanOrEqual(3);
      }
    }
  });

  it('refuses a disconnected underlay, naming the silos', () => {
    const text =
      'graph [\n node [ id 0 label "a" ]\n node [ id 1 label "b" ]\n node [ id 2 label "c" ]\n edge [ source 0 target 1 distance 5 ]\n]\n';
    expect(() => connectivityFromNetwork(parseGml(text))).toThrow(DisconnectedNetworkError);
    expect(() => connectivityFromNetwork(parseGml(text))).toThrow('silo "c" cannot be reached from silo "a"');
  });

  it('plans a two-silo fleet', () => {
    const fleet = fleetFromMeasurements(
      parseMeasurements({
        silos: [{ name: 'a' }, { name: 'b' }],
        links: [{ from: 'a', to: 'b', latencyMs: 10, bandwidthBps: 1e9 }],
      }),
      { modelBits: 1e6, computeMs: 5, uplinkBps: 1e10, downlinkBps: 1e10 },
    );
    const plan = planTopology(fleet, { overlays: OVERLAY_NAMES, tMax: 5, rounds: 10 });
    // Every overlay is the pair both ways, 16 ms each; STAR reports gather plus scatter, (16 - 5) * 2 + 5.
    expect(
      [plan.star, plan.mst, plan.deltaMbst, plan.ring, plan.multigraph].map((p) => p?.cycleTimeMs),
    ).toEqual([27, 16, 16, 16, 16]);
  });

  it('generates the same connected synthetic network for the same seed', () => {
    const a = syntheticNetwork({ silos: 60, seed: 5 });
    expect(syntheticNetwork({ silos: 60, seed: 5 })).toEqual(a);
    expect(syntheticNetwork({ silos: 60, seed: 6 })).not.toEqual(a);
    expect(connectivityFromNetwork(a).size).toBe(60);
  });
});
