// The shipped model drives the held-out world through the robot's steering node: three laps,
// no collision. This is `npm start`'s run, so the README's promise is checked on every change.
import { describe, expect, it } from 'vitest';
import { loadModelPackage } from '../../models/src/files.ts';
import { runClosedLoop } from '../../sim/loop/closed-loop.ts';
import { heldOutWorld, SHIPPED_MANIFEST } from '../../sim/loop/cli.ts';
import { loadWorld } from '../../sim/world/load.ts';

// fadnet-sim 1.1.0 (trained with random looks) drives the held-out world unaided: no safety
// driver, mean cross-track error 0.03 m. Any intervention is a regression.
const MAX_INTERVENTIONS = 0;

describe('shipped model', () => {
  it('has a manifest whose ONNX bytes check out and whose provenance says how it was made', async () => {
    const { manifest } = await loadModelPackage(SHIPPED_MANIFEST);
    expect(manifest.name).toBe('fadnet-sim');
    expect(manifest.provenance.command).toMatch(/^fadnet train --sim-worlds /);
    expect(manifest.provenance.command).not.toContain(heldOutWorld());
  });

  it('completes 3 laps of the held-out world with zero collisions', { timeout: 600_000 }, async () => {
    const result = await runClosedLoop({
      world: loadWorld(heldOutWorld()),
      laps: 3,
      seed: 1,
      driver: 'model',
      manifestPath: SHIPPED_MANIFEST,
    });
    expect(result.laps_completed).toBe(3);
    expect(result.collisions).toBe(0);
    expect(result.interventions).toBeLessThanOrEqual(MAX_INTERVENTIONS);
  });
});
