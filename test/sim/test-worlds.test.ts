// The test worlds (sim/worlds/test/): new looks and layouts for measuring how a model
// generalises (sim/GENERALISATION.md). They load by name, are marked held out, are never among
// the bundled worlds that training picks from, and each differs from every training world in
// its floor, its marking colours and its track.
import { describe, expect, it } from 'vitest';
import { buildScene } from '../../sim/scene.ts';
import { Simulator } from '../../sim/simulator.ts';
import { minRadius } from '../../sim/track.ts';
import { listWorlds, loadWorld, TEST_WORLDS_DIR } from '../../sim/world/load.ts';
import type { World } from '../../sim/world/schema.ts';

const TEST_WORLDS = ['test-hairpin', 'test-night-plaza', 'test-s-bends'];

const markingColours = (w: World): string[] =>
  [w.markings.centre, w.markings.edges].filter((m) => m.style !== 'none').map((m) => m.colour.join(','));

describe('test worlds', () => {
  const training = listWorlds()
    .filter((w) => !w.heldOut)
    .map((w) => loadWorld(w.name));

  it('are three, held out, found by name and not among the bundled worlds', () => {
    const listed = listWorlds(TEST_WORLDS_DIR);
    expect(listed.map((w) => w.name)).toEqual(TEST_WORLDS);
    expect(listed.map((w) => w.heldOut)).toEqual([true, true, true]);
    for (const name of TEST_WORLDS) expect(loadWorld(name).name).toBe(name);
    expect(listWorlds().map((w) => w.name)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^test-/)]),
    );
    expect(training.map((w) => w.name)).toEqual([
      'gym-oval',
      'office-loop',
      'park-path',
      'parking-lot',
      'warehouse-kidney',
    ]);
  });

  it.each(TEST_WORLDS)('%s differs from every training world in floor, marking colours and track', (name) => {
    const world = loadWorld(name);
    const trainingFloors = new Set(training.flatMap((w) => [w.floor.texture.kind, w.floor.lane?.kind]));
    expect(trainingFloors.has(world.floor.texture.kind)).toBe(false);
    const trainingColours = new Set(training.flatMap(markingColours));
    expect(markingColours(world).filter((c) => trainingColours.has(c))).toEqual([]);
    for (const w of [...training, loadWorld('eval-loop')]) expect(world.track).not.toEqual(w.track);
  });

  it.each(TEST_WORLDS)('%s is drivable: the expert laps it within 7 cm, no collision', (name) => {
    const world = loadWorld(name);
    const scene = buildScene(world);
    expect(scene.centreline.length).toBeGreaterThan(30);
    expect(scene.centreline.length).toBeLessThan(50);
    expect(minRadius(scene.centreline).radius).toBeGreaterThanOrEqual(1.05);
    const sim = Simulator.create({ world, seed: 1 });
    let r = sim.reset();
    let maxCte = 0;
    let collisions = 0;
    for (let steps = 0; r.laps < 1 && steps < 4000; steps++) {
      r = sim.step(sim.expert().twist, 1 / 30);
      maxCte = Math.max(maxCte, Math.abs(r.cte));
      if (r.collided) collisions++;
    }
    expect(r.laps).toBe(1);
    expect(collisions).toBe(0);
    expect(maxCte).toBeLessThan(0.07);
  });
});
