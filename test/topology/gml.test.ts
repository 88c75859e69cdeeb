import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { GmlParseError, NetworkFileError, parseGml, readNetworkFile } from '../../fleet/topology/index.ts';
import { networkPath, networkText } from './networks.ts';

const graph = (body: string): string => `graph [\n${body}\n]\n`;
const nodes = '  node [\n    id 0\n    label "a"\n  ]\n  node [\n    id 1\n    label "b"\n  ]';

function parseError(text: string): GmlParseError {
  try {
    parseGml(text, 'test.gml');
  } catch (error) {
    if (error instanceof GmlParseError) return error;
    throw error;
  }
  throw new Error('expected a GmlParseError');
}

describe('GML reader', () => {
  it('reads the paper networks in file order', () => {
    const gaia = parseGml(networkText('gaia'), 'gaia.gml');
    expect(gaia.nodes).toHaveLength(11);
    expect(gaia.edges).toHaveLength(55);
    expect(gaia.nodes[10]).toEqual({ id: 10, label: 'Sao Paulo', line: 42 });
    expect(gaia.edges[0]).toEqual({ source: 0, target: 1, distance: 3560.859824767453, line: 46 });
    const geant = parseGml(networkText('geantdistance'), 'geantdistance.gml');
    expect([geant.nodes.length, geant.edges.length]).toEqual([40, 61]);
  });

  it('accepts comments, numbers with exponents and HTML entities in strings', () => {
    const text = graph(
      '  # two silos\n  node [ id 0 label "a &amp; b" ]\n  node [ id 1 label "c" ]\n  edge [ source 0 target 1 distance 1.5e3 ]',
    );
    const network = parseGml(text);
    expect(network.nodes.map((n) => n.label)).toEqual(['a & b', 'c']);
    expect(network.edges[0]?.distance).toBe(1500);
  });

  it.each([
    ['an unterminated string', graph('  node [\n    id 0\n    label "open\n  ]'), 4, 'unterminated string'],
    [
      'a list that is never closed',
      'graph [\n  node [\n    id 0\n  ]\n',
      5,
      'list opened at line 1 is not closed with "]"',
    ],
    ['a stray "]"', `${graph(nodes)}]\n`, 11, 'unexpected "]"'],
    ['a key without a value', graph('  node [\n    id\n  ]'), 3, 'key "id" has no value'],
    ['a value without a key', graph('  node [\n    0\n  ]'), 3, 'expected a key, found number 0'],
    ['a node without an id', graph('  node [\n    label "x"\n  ]'), 2, 'node has no id'],
    ['a duplicated node id', graph(`${nodes}\n  node [\n    id 1\n  ]`), 10, 'node id 1 is used twice'],
    [
      'an edge to an unknown node',
      graph(`${nodes}\n  edge [\n    source 0\n    target 7\n    distance 1\n  ]`),
      12,
      'edge target 7 is not a node id',
    ],
    [
      'an edge without a distance',
      graph(`${nodes}\n  edge [\n    source 0\n    target 1\n  ]`),
      10,
      'edge has no distance',
    ],
    [
      'a negative distance',
      graph(`${nodes}\n  edge [\n    source 0\n    target 1\n    distance -3\n  ]`),
      13,
      'edge distance must be a finite number >= 0',
    ],
    [
      'a duplicated edge',
      graph(`${nodes}\n  edge [ source 0 target 1 distance 1 ]\n  edge [ source 1 target 0 distance 2 ]`),
      11,
      'edge duplicates the edge at line 10',
    ],
    [
      'a directed graph',
      graph('  directed 1\n  node [ id 0 ]'),
      2,
      'directed underlays are not supported (links are two-way)',
    ],
    ['no graph at all', 'creator "nobody"\n', 1, 'no "graph [ ... ]" block'],
    ['an unreadable token', graph('  node [ id 0 label @ ]'), 2, 'unexpected "@"'],
  ])('names the line of %s', (_, text, line, detail) => {
    const error = parseError(text);
    expect(error.name).toBe('GmlParseError');
    expect(error.line).toBe(line);
    expect(error.message).toBe(`test.gml line ${line}: ${detail}`);
  });

  it('reads files through the adapter, naming the file in parse errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topology-gml-'));
    const bad = join(dir, 'broken.gml');
    await writeFile(bad, 'graph [\n  node [\n    id 0\n    label "a\n  ]\n]\n');
    await expect(readNetworkFile(bad)).rejects.toThrow('broken.gml line 4: unterminated string');
    await expect(readNetworkFile(join(dir, 'absent.gml'))).rejects.toBeInstanceOf(NetworkFileError);
    expect((await readNetworkFile(networkPath('gaia'))).nodes).toHaveLength(11);
  });
});
