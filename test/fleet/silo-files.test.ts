// The silo's file adapters on real files: plan files and the atomic checkpoint.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  FileCheckpointStore,
  FleetPlanError,
  mcapFilesIn,
  PLAN_FORMAT,
  readPlanFile,
  SiloCheckpointError,
} from '../../fleet/silo/index.ts';
import { decodeSafetensors, encodeSafetensors } from '../../models/src/weights/safetensors.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-silo-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const trainerState = (value: number): Uint8Array =>
  encodeSafetensors([['conv1.bias', { shape: [2], data: Float32Array.of(value, -value) }]], {
    metadata: { format: 'fadnet-edge/checkpoint@1', step: '3' },
  });

describe('FileCheckpointStore', () => {
  it('keeps the round beside the trainer state and returns bytes the trainer reads', async () => {
    const store = new FileCheckpointStore(path.join(dir, 'a', 'rb-a.checkpoint.safetensors'), {
      silo: 'rb-a',
      fleet: 'lab',
    });
    expect(await store.load()).toBeUndefined();
    await store.save({ round: 5, trainer: trainerState(1.5) });
    await store.save({ round: 6, trainer: trainerState(2.5) });
    const loaded = await store.load();
    expect(loaded?.round).toBe(6);
    const decoded = decodeSafetensors(loaded!.trainer);
    expect([...decoded.tensors.get('conv1.bias')!.data]).toEqual([2.5, -2.5]);
    expect(decoded.metadata).toEqual({
      format: 'fadnet-edge/checkpoint@1',
      step: '3',
      'silo.round': '6',
      'silo.id': 'rb-a',
      'silo.fleet': 'lab',
    });
    // Written by rename: no temporary file is left beside it.
    expect(await readdir(path.join(dir, 'a'))).toEqual(['rb-a.checkpoint.safetensors']);
  });

  it("refuses another silo's checkpoint and a file that is not one", async () => {
    const file = path.join(dir, 'b.safetensors');
    await new FileCheckpointStore(file, { silo: 'rb-b', fleet: 'lab' }).save({
      round: 1,
      trainer: trainerState(1),
    });
    const wrong = new FileCheckpointStore(file, { silo: 'rb-a', fleet: 'lab' });
    await expect(wrong.load()).rejects.toThrow(
      new SiloCheckpointError(file, 'belongs to silo rb-b of fleet lab, not to silo rb-a of fleet lab'),
    );
    await writeFile(file, 'not a checkpoint');
    await expect(wrong.load()).rejects.toThrow(`${file}: is not a readable safetensors checkpoint`);
  });
});

describe('plan and data files', () => {
  it('reads a plan file and names what is wrong with a bad one', async () => {
    const good = path.join(dir, 'plan.json');
    await writeFile(
      good,
      JSON.stringify({
        format: PLAN_FORMAT,
        silos: ['a', 'b'],
        arcs: [{ from: 'a', to: 'b', multiplicity: 2 }],
      }),
    );
    const plan = await readPlanFile(good);
    expect(plan.ids).toEqual(['a', 'b']);
    expect([...plan.multigraph.multiplicity]).toEqual([2]);
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"format":');
    await expect(readPlanFile(bad)).rejects.toThrow(FleetPlanError);
    await expect(readPlanFile(bad)).rejects.toThrow(`${bad}: is not JSON:`);
    await expect(readPlanFile(path.join(dir, 'none.json'))).rejects.toThrow(
      'none.json: cannot be read (ENOENT)',
    );
  });

  it('lists the recordings of a data folder in order, and refuses an empty one', async () => {
    const data = path.join(dir, 'data');
    await mkdir(data);
    await expect(mcapFilesIn(data)).rejects.toThrow(`data folder ${data} holds no .mcap recordings`);
    for (const name of ['b.mcap', 'a.mcap', 'notes.txt']) await writeFile(path.join(data, name), '');
    expect(await mcapFilesIn(data)).toEqual([path.join(data, 'a.mcap'), path.join(data, 'b.mcap')]);
  });
});

describe('fadnet topology --plan-out', () => {
  it('writes the plan file a silo reads, with the multigraph the planner made', async () => {
    const { topologyCommand } = await import('../../fleet/topology/cli.ts');
    const topology = await import('../../fleet/topology/index.ts');
    const file = path.join(dir, 'lab.plan.json');
    const args = ['--synthetic', '5', '--profile', 'fadnet-gazebo', '--overlay', 'ring', '--json'];
    const ids = 'r0,r1,r2,r3,r4';
    expect(await topologyCommand([...args, '--plan-out', file, '--ids', ids])).toBe(0);
    const plan = await readPlanFile(file);
    expect(plan.ids).toEqual(ids.split(','));
    expect(plan.multigraph.overlay.kind).toBe('ring');
    expect(plan.multigraph.overlay.arcs).toHaveLength(5);
    // The same multigraph as planning the same synthetic fleet directly.
    const profile = topology.PROFILES['fadnet-gazebo'];
    const fleet = topology.fleetFromConnectivity(
      topology.connectivityFromNetwork(topology.syntheticNetwork({ silos: 5, seed: 1 })),
      { ...profile, uplinkBps: topology.DEFAULT_ACCESS_BPS, downlinkBps: topology.DEFAULT_ACCESS_BPS },
    );
    const direct = topology.planTopology(fleet, {
      overlays: ['multigraph'],
      tMax: topology.DEFAULT_T_MAX,
      rounds: profile.rounds,
    }).multigraph!.multigraph;
    expect(plan.multigraph.overlay.arcs).toEqual(direct.overlay.arcs.map(({ from, to }) => ({ from, to })));
    expect([...plan.multigraph.multiplicity]).toEqual([...direct.multiplicity]);
    expect(plan.multigraph.stateCount).toBe(direct.stateCount);
    await expect(topologyCommand([...args, '--plan-out', file, '--ids', 'r0,r1'])).rejects.toThrow(
      'plan: 2 ids for 5 silos',
    );
  });
});
