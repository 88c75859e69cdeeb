// Which worlds the fleet trains on: `fadnet fleet sim` gives each silo a bundled training world,
// never the held-out world nor a test world (sim/worlds/test/), and no shipped package was
// trained or calibrated on either. A silo's look randomisation comes from its environment.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { fleetSimSources } from '../../bin/fleet-sim.ts';
import { appearanceFromEnv, SIM_APPEARANCE_ENV, simWorldDataset } from '../../bin/silo-sim.ts';
import { loadModelPackage } from '../../models/src/files.ts';
import { listWorlds, TEST_WORLDS_DIR } from '../../sim/world/load.ts';

const excluded = (): string[] => [
  ...listWorlds()
    .filter((w) => w.heldOut)
    .map((w) => w.name),
  ...listWorlds(TEST_WORLDS_DIR).map((w) => w.name),
];

describe('training worlds', () => {
  it('leave out the held-out world and every test world', async () => {
    expect(excluded()).toEqual(['eval-loop', 'test-hairpin', 'test-night-plaza', 'test-s-bends']);
    const sources = await fleetSimSources();
    expect(sources.trainingWorlds).toEqual([
      'gym-oval',
      'office-loop',
      'park-path',
      'parking-lot',
      'warehouse-kidney',
    ]);
    expect(sources.heldOutWorld).toBe('eval-loop');
  });

  it("are not the held-out or a test world in any shipped package's provenance", async () => {
    const manifests = readdirSync('models/shipped').filter((f) => f.endsWith('.manifest.json'));
    expect(manifests.length).toBeGreaterThanOrEqual(3);
    for (const file of manifests) {
      const { manifest } = await loadModelPackage(`models/shipped/${file}`);
      const said = [manifest.provenance.command ?? '', ...manifest.provenance.data].join(' ');
      for (const world of excluded()) expect(said, `${file} names ${world}`).not.toContain(world);
    }
  });
});

describe("a silo process's look randomisation", () => {
  it('is read from its environment, 0 when unset, and refuses what is not a whole number', () => {
    expect(appearanceFromEnv({})).toBe(0);
    expect(appearanceFromEnv({ [SIM_APPEARANCE_ENV]: '100' })).toBe(100);
    expect(() => appearanceFromEnv({ [SIM_APPEARANCE_ENV]: '1.5' })).toThrow(
      `${SIM_APPEARANCE_ENV} must be a whole number of samples, got "1.5"`,
    );
  });

  it('keeps the first episode of a world as it looks and re-dresses the next', async () => {
    const n = 4;
    const plain = await simWorldDataset('office-loop', n, 3, { randomiseAppearance: 0 });
    const dressed = await simWorldDataset('office-loop', n, 3, { randomiseAppearance: 2 });
    const read = async (d: typeof plain): Promise<Float32Array[]> => {
      const frame = d.inputSpec.width * d.inputSpec.height;
      const x = new Float32Array(n * frame);
      await d.read([0, 1, 2, 3], x, new Float32Array(n));
      return [0, 1, 2, 3].map((i) => x.subarray(i * frame, (i + 1) * frame));
    };
    const [a, b] = [await read(plain), await read(dressed)];
    expect(b[0]).toEqual(a[0]);
    expect(b[1]).toEqual(a[1]);
    expect(b[2]).not.toEqual(a[2]);
    expect(b[3]).not.toEqual(a[3]);
  });
});
