import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';

import { topologyCommand } from '../../fleet/topology/cli.ts';
import { GmlParseError, NetworkFileError } from '../../fleet/topology/index.ts';
import { networkPath } from './networks.ts';

describe('fadnet topology', () => {
  let log: MockInstance<typeof console.log>;
  let error: MockInstance<typeof console.error>;
  const printed = (): string => log.mock.calls.map((call) => call.join(' ')).join('\n');

  beforeEach(() => {
    log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => vi.restoreAllMocks());

  it('prints the Gaia cycle times with one decimal', async () => {
    expect(
      await topologyCommand(['--network', networkPath('gaia'), '--profile', 'femnist', '--overlay', 'all']),
    ).toBe(0);
    expect(printed()).toBe(
      [
        'STAR          289.8 ms',
        'MST            77.2 ms',
        'delta-MBST     77.2 ms',
        'RING           57.2 ms',
        'MULTIGRAPH     15.7 ms',
      ].join('\n'),
    );
  });

  it('prints one JSON line with --json', async () => {
    expect(await topologyCommand(['--network', networkPath('gaia'), '--profile', 'femnist', '--json'])).toBe(
      0,
    );
    expect(log.mock.calls).toHaveLength(1);
    expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toEqual({
      star: 289.8,
      mst: 77.2,
      delta_mbst: 77.2,
      ring: 57.2,
      multigraph: 15.7,
    });
  });

  it('prints only the requested overlay, and the improved multigraph with --improve', async () => {
    await topologyCommand([
      '--network',
      networkPath('gaia'),
      '--profile',
      'femnist',
      '--overlay',
      'ring',
      '--json',
    ]);
    expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toEqual({ ring: 57.2 });
    log.mockClear();
    await topologyCommand([
      '--network',
      networkPath('gaia'),
      '--profile',
      'femnist',
      '--overlay',
      'multigraph',
      '--improve',
      '--json',
    ]);
    expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toEqual({
      multigraph: 15.7,
      multigraph_improved: 14.6,
      t_max_improved: 5,
    });
  });

  it('explains the ring order, the multiplicities and the isolated silos per state', async () => {
    await topologyCommand([
      '--network',
      networkPath('gaia'),
      '--profile',
      'femnist',
      '--overlay',
      'multigraph',
      '--explain',
    ]);
    const text = printed();
    expect(text).toContain('ring order: 0 -> 10 -> 3 -> 4 -> 9 -> 7 -> 8 -> 6 -> 5 -> 2 -> 1 -> 0');
    expect(text).toContain('0 -> 10: n=4 (77.2 ms; Virginia -> Sao Paulo)');
    expect(text).toContain('isolated silos per state (s_max 60):');
    expect(text).toContain('state 1: 0, 2, 3, 6, 7, 8, 9, 10');
  });

  it('honours profile overrides', async () => {
    // t_max 1: every edge strong in every round, so the multigraph is the ring itself.
    await topologyCommand([
      '--network',
      networkPath('gaia'),
      '--profile',
      'femnist',
      '--overlay',
      'multigraph',
      '--t-max',
      '1',
      '--json',
    ]);
    expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toEqual({ multigraph: 57.2 });
  });

  it('draws the overlay and a state, marking isolated silos, with --svg', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topology-svg-'));
    const path = join(dir, 'gaia.svg');
    await topologyCommand([
      '--network',
      networkPath('gaia'),
      '--profile',
      'femnist',
      '--overlay',
      'multigraph',
      '--svg',
      path,
      '--state',
      '1',
    ]);
    const svg = await readFile(path, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('multigraph state 1 of 60: 8 isolated');
    expect(svg.match(/fill="#d62728"/g)).toHaveLength(8);
  });

  it('plans from a measurements file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topology-measurements-'));
    const path = join(dir, 'fleet.json');
    await writeFile(
      path,
      JSON.stringify({
        silos: [{ name: 'A' }, { name: 'B' }, { name: 'C' }],
        links: [
          { from: 'A', to: 'B', latencyMs: 10, bandwidthBps: 1e9 },
          { from: 'B', to: 'C', latencyMs: 20, bandwidthBps: 1e8 },
          { from: 'A', to: 'C', latencyMs: 30, bandwidthBps: 1e9 },
        ],
      }),
    );
    const args = ['--measurements', path, '--profile', 'femnist', '--model-bits', '1e6', '--compute-ms', '5'];
    expect(await topologyCommand([...args, '--overlay', 'ring', '--json'])).toBe(0);
    expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toEqual({ ring: 29 });
  });

  it('rejects bad usage with exit code 2 and bad files with a typed error', async () => {
    expect(await topologyCommand(['--network', networkPath('gaia'), '--profile', 'mnist'])).toBe(2);
    expect(String(error.mock.calls[0]?.[0])).toContain(
      '--profile must be one of femnist, sent140, inaturalist',
    );
    expect(await topologyCommand(['--bogus'])).toBe(2);
    await expect(topologyCommand(['--profile', 'femnist'])).rejects.toThrow(
      'give exactly one of --network, --measurements, --synthetic',
    );
    await expect(
      topologyCommand(['--network', networkPath('gaia'), '--profile', 'femnist', '--overlay', 'tree']),
    ).rejects.toThrow('--overlay must be one of star, mst, delta-mbst, ring, multigraph or all, got "tree"');
    await expect(
      topologyCommand(['--network', networkPath('gaia'), '--profile', 'femnist', '--rounds', '1.5']),
    ).rejects.toThrow('--rounds must be an integer, got "1.5"');
    const dir = await mkdtemp(join(tmpdir(), 'topology-bad-'));
    await expect(
      topologyCommand(['--network', join(dir, 'none.gml'), '--profile', 'femnist']),
    ).rejects.toBeInstanceOf(NetworkFileError);
    const broken = join(dir, 'broken.gml');
    await writeFile(broken, 'graph [\n  node [ id 0 ]\n  edge [ source 0 target 9 distance 1 ]\n]\n');
    await expect(topologyCommand(['--network', broken, '--profile', 'femnist'])).rejects.toThrow(
      GmlParseError,
    );
    await expect(topologyCommand(['--network', broken, '--profile', 'femnist'])).rejects.toThrow(
      'broken.gml line 3: edge target 9 is not a node id',
    );
  });
});
