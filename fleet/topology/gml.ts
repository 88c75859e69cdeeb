// GML reader for underlay networks (Topology Zoo style, as networkx writes and reads them).
// Pure: takes the text, returns silos and links in file order, because silo indices, and with
// them every tie-break of the planner, follow the order of the file.

import { GmlParseError } from './errors.ts';

export type GmlValue = number | string | GmlList;

export interface GmlEntry {
  readonly key: string;
  readonly value: GmlValue;
  readonly line: number;
}

export interface GmlList {
  readonly entries: readonly GmlEntry[];
}

export interface GmlNode {
  readonly id: number;
  readonly label: string;
  readonly line: number;
}

export interface GmlEdge {
  /** Index of the source node in file order (not its GML id). */
  readonly source: number;
  readonly target: number;
  /** Link length (km); the connectivity graph turns it into latency. */
  readonly distance: number;
  readonly line: number;
}

export interface GmlNetwork {
  readonly nodes: readonly GmlNode[];
  readonly edges: readonly GmlEdge[];
}

type Token =
  | { readonly kind: 'key'; readonly text: string; readonly line: number }
  | { readonly kind: 'number'; readonly value: number; readonly line: number }
  | { readonly kind: 'string'; readonly value: string; readonly line: number }
  | { readonly kind: 'open' | 'close'; readonly line: number };

const NUMBER = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|INF|NAN)$/;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|quot|amp|lt|gt|apos);/g, (_, entity: string) => {
    switch (entity) {
      case 'quot':
        return '"';
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(
          entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10),
        );
    }
  });
}

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    const content = lines[index] ?? '';
    let pos = 0;
    while (pos < content.length) {
      const ch = content[pos] ?? '';
      if (ch === ' ' || ch === '\t') {
        pos++;
      } else if (ch === '#') {
        break;
      } else if (ch === '[' || ch === ']') {
        tokens.push({ kind: ch === '[' ? 'open' : 'close', line });
        pos++;
      } else if (ch === '"') {
        const end = content.indexOf('"', pos + 1);
        if (end < 0) throw new GmlParseError(source, line, 'unterminated string');
        tokens.push({ kind: 'string', value: unescapeHtml(content.slice(pos + 1, end)), line });
        pos = end + 1;
      } else {
        let end = pos;
        while (end < content.length && !' \t[]"#'.includes(content[end] ?? ' ')) end++;
        const word = content.slice(pos, end);
        if (NUMBER.test(word)) {
          const value = word.endsWith('INF') ? (word.startsWith('-') ? -Infinity : Infinity) : Number(word);
          tokens.push({ kind: 'number', value, line });
        } else if (KEY.test(word)) {
          tokens.push({ kind: 'key', text: word, line });
        } else {
          throw new GmlParseError(source, line, `unexpected "${word}"`);
        }
        pos = end;
      }
    }
  }
  return tokens;
}

/** Parses GML text into its nested key/value lists, without interpreting them. */
export function parseGmlTree(text: string, source = 'GML'): GmlList {
  const tokens = tokenize(text, source);
  let pos = 0;
  const lastLine = text.split(/\r\n|\n|\r/).length;

  function list(opening: number | undefined): GmlList {
    const entries: GmlEntry[] = [];
    for (;;) {
      const token = tokens[pos];
      if (token === undefined) {
        if (opening === undefined) return { entries };
        throw new GmlParseError(source, lastLine, `list opened at line ${opening} is not closed with "]"`);
      }
      if (token.kind === 'close') {
        if (opening === undefined) throw new GmlParseError(source, token.line, 'unexpected "]"');
        pos++;
        return { entries };
      }
      if (token.kind !== 'key') {
        throw new GmlParseError(source, token.line, `expected a key, found ${describe(token)}`);
      }
      pos++;
      const value = tokens[pos];
      if (value === undefined || value.kind === 'close' || value.kind === 'key') {
        throw new GmlParseError(source, token.line, `key "${token.text}" has no value`);
      }
      pos++;
      if (value.kind === 'open') {
        entries.push({ key: token.text, value: list(value.line), line: token.line });
      } else if (value.kind === 'number' || value.kind === 'string') {
        entries.push({ key: token.text, value: value.value, line: token.line });
      }
    }
  }

  return list(undefined);
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'number':
      return `number ${token.value}`;
    case 'string':
      return `string "${token.value}"`;
    case 'open':
      return '"["';
    case 'close':
      return '"]"';
    case 'key':
      return `key "${token.text}"`;
  }
}

function single(list: GmlList, key: string): GmlEntry | undefined {
  return list.entries.find((entry) => entry.key === key);
}

function requireInteger(entry: GmlEntry | undefined, what: string, source: string, line: number): number {
  if (entry === undefined)
    throw new GmlParseError(source, line, `${what} has no ${what === 'node' ? 'id' : 'value'}`);
  if (typeof entry.value !== 'number' || !Number.isInteger(entry.value)) {
    throw new GmlParseError(source, entry.line, `${what} "${entry.key}" must be an integer`);
  }
  return entry.value;
}

/**
 * Parses an underlay network: an undirected `graph` of `node`s (integer `id`, optional `label`)
 * and `edge`s (`source`, `target`, `distance` >= 0). Errors name the offending line.
 */
export function parseGml(text: string, source = 'GML'): GmlNetwork {
  const root = parseGmlTree(text, source);
  const graphs = root.entries.filter((entry) => entry.key === 'graph');
  const graphEntry = graphs[0];
  if (graphEntry === undefined) throw new GmlParseError(source, 1, 'no "graph [ ... ]" block');
  if (typeof graphEntry.value !== 'object') {
    throw new GmlParseError(source, graphEntry.line, '"graph" must be a list "[ ... ]"');
  }
  const graph = graphEntry.value;
  const directed = single(graph, 'directed');
  if (directed !== undefined && directed.value !== 0) {
    throw new GmlParseError(
      source,
      directed.line,
      'directed underlays are not supported (links are two-way)',
    );
  }

  const nodes: GmlNode[] = [];
  const indexById = new Map<number, number>();
  const labels = new Set<string>();
  for (const entry of graph.entries) {
    if (entry.key !== 'node') continue;
    if (typeof entry.value !== 'object') throw new GmlParseError(source, entry.line, '"node" must be a list');
    const id = requireInteger(single(entry.value, 'id'), 'node', source, entry.line);
    if (indexById.has(id)) throw new GmlParseError(source, entry.line, `node id ${id} is used twice`);
    const labelEntry = single(entry.value, 'label');
    const label = labelEntry === undefined ? String(id) : String(labelEntry.value);
    if (labels.has(label)) throw new GmlParseError(source, entry.line, `node label "${label}" is used twice`);
    labels.add(label);
    indexById.set(id, nodes.length);
    nodes.push({ id, label, line: entry.line });
  }
  if (nodes.length === 0) throw new GmlParseError(source, graphEntry.line, 'the graph has no nodes');

  const edges: GmlEdge[] = [];
  const seen = new Map<string, number>();
  for (const entry of graph.entries) {
    if (entry.key !== 'edge') continue;
    if (typeof entry.value !== 'object') throw new GmlParseError(source, entry.line, '"edge" must be a list');
    const endpoint = (key: 'source' | 'target'): number => {
      const field = single(entry.value as GmlList, key);
      if (field === undefined) throw new GmlParseError(source, entry.line, `edge has no ${key}`);
      const id = requireInteger(field, 'edge', source, entry.line);
      const index = indexById.get(id);
      if (index === undefined)
        throw new GmlParseError(source, field.line, `edge ${key} ${id} is not a node id`);
      return index;
    };
    const from = endpoint('source');
    const to = endpoint('target');
    const distanceEntry = single(entry.value, 'distance');
    if (distanceEntry === undefined) throw new GmlParseError(source, entry.line, 'edge has no distance');
    const distance = distanceEntry.value;
    if (typeof distance !== 'number' || !Number.isFinite(distance) || distance < 0) {
      throw new GmlParseError(source, distanceEntry.line, 'edge distance must be a finite number >= 0');
    }
    // A self-loop never lies on a shortest path; it is dropped rather than rejected.
    if (from === to) continue;
    const key = from < to ? `${from}-${to}` : `${to}-${from}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new GmlParseError(source, entry.line, `edge duplicates the edge at line ${earlier}`);
    }
    seen.set(key, entry.line);
    edges.push({ source: from, target: to, distance, line: entry.line });
  }
  return { nodes, edges };
}
