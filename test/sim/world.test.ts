import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildScene } from '../../sim/scene.ts';
import { minRadius } from '../../sim/track.ts';
import { listWorlds, loadWorld, parseWorld, WorldError } from '../../sim/world/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'fadnet-worlds-'));
/** A bundled file as written, so each test can break one field of a known-good world. */
const base = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../sim/worlds/office-loop.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
function writeWorld(name: string, json: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(json));
  return file;
}
function errorOf(fn: () => unknown): WorldError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WorldError) return error;
    throw error;
  }
  throw new Error('expected a WorldError');
}

describe('bundled worlds', () => {
  const worlds = listWorlds();

  it('has five training worlds and one held out for evaluation', () => {
    expect(worlds.map((w) => w.name)).toEqual([
      'eval-loop',
      'gym-oval',
      'office-loop',
      'park-path',
      'parking-lot',
      'warehouse-kidney',
    ]);
    expect(worlds.filter((w) => w.heldOut).map((w) => w.name)).toEqual(['eval-loop']);
    expect(new Set(worlds.map((w) => w.environment))).toEqual(new Set(['indoor', 'outdoor']));
  });

  it.each(worlds.map((w) => w.name))('%s is drivable: lap 20-60 m, bends of radius >= 1 m', (name) => {
    const scene = buildScene(loadWorld(name));
    expect(scene.centreline.length).toBeGreaterThan(20);
    expect(scene.centreline.length).toBeLessThan(60);
    expect(minRadius(scene.centreline).radius).toBeGreaterThanOrEqual(1);
  });
});

describe('world validation', () => {
  it('names the file and the field of a schema error', () => {
    const json = base();
    (json['walls'] as Record<string, unknown>)['height'] = -1;
    const file = writeWorld('bad-height', json);
    const e = errorOf(() => loadWorld(file));
    expect(e.field).toBe('walls.height');
    expect(e.file).toBe(file);
    expect(e.message).toBe(`${file}: walls.height: Too small: expected number to be >0`);
  });

  it('names a bad colour inside a texture', () => {
    const json = base();
    (json['floor'] as { texture: Record<string, unknown> }).texture['colour'] = 'grey';
    const e = errorOf(() => parseWorld(json, 'w.json'));
    expect(e.message).toBe('w.json: floor.texture.colour: expected a colour like "#a0b0c0"');
  });

  it('rejects unknown fields, so typos do not pass silently', () => {
    const json = base();
    json['lightning'] = {};
    expect(errorOf(() => parseWorld(json, 'w.json')).message).toBe('w.json: Unrecognized key: "lightning"');
  });

  it('rejects a corner too tight to drive', () => {
    const json = base();
    (json['track'] as Record<string, unknown>)['cornerRadius'] = 0.5;
    const e = errorOf(() => parseWorld(json, 'w.json'));
    expect(e.field).toBe('track.points');
    expect(e.message).toMatch(/^w\.json: track\.points: the centreline bends with radius 0\.5\d m at /);
  });

  it('rejects a distractor on the lane', () => {
    const json = base();
    (json['distractors'] as Record<string, unknown>[])[1]!['at'] = { along: 14, offset: 0.2 };
    const e = errorOf(() => parseWorld(json, 'w.json'));
    expect(e.field).toBe('distractors.1');
    expect(e.message).toMatch(/^w\.json: distractors\.1: box reaches 0\.\d\d m from the centreline/);
  });

  it('rejects a file that is not JSON and a name that does not match the file', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "name": ');
    expect(errorOf(() => loadWorld(file)).message).toMatch(/broken\.json: not valid JSON/);
    expect(errorOf(() => loadWorld('no-such-world')).message).toMatch(
      /^no-such-world\.json: cannot read world file; bundled worlds: eval-loop, gym-oval/,
    );
  });
});
