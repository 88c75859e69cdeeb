// The model store on real files: what open() keeps and what it discards after a kill at each
// point (a staging folder, a version without its contents list, a damaged file, a half-written
// pointer), resuming chunks, rollback, and the pointer the steering node reads.
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSiloKeys } from '../../fleet/exchange/index.ts';
import {
  describeArtifact,
  ModelStore,
  signRelease,
  StoreError,
  type Release,
} from '../../fleet/ota/index.ts';
import { readWeightsFile, writeModelPackage } from '../../models/src/files.ts';
import { readActivePointer } from '../../models/src/model-store.ts';

const SEED = path.resolve('models/shipped/fadnet-sim.manifest.json');
let work: string;
let newManifest: string;
let dir: string;
const lines: string[] = [];
const log = (line: string): void => void lines.push(line);

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'fadnet-ota-store-'));
  const written = await writeModelPackage({
    dir: path.join(work, 'new'),
    name: 'fadnet-sim',
    version: '1.2.0',
    weights: await readWeightsFile(path.resolve('models/shipped/fadnet-sim.safetensors')),
    provenance: { data: [], rounds: 0, date: '2026-12-01T00:00:00.000Z' },
  });
  newManifest = written.manifestPath;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
let n = 0;
beforeEach(() => {
  dir = path.join(work, `store-${n++}`);
  lines.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A store on 1.2.0 with the factory 1.1.0 kept as previous. */
async function updated(): Promise<ModelStore> {
  const store = await ModelStore.open(dir, { seed: SEED, log, now: () => 1000 });
  await store.activate(await store.importPackage(newManifest), 'update to 1.2.0');
  return store;
}

describe('model store', () => {
  it('installs the factory model into an empty store and points at it', async () => {
    const store = await ModelStore.open(dir, { seed: SEED, log, now: () => 1000 });
    expect(await readActivePointer(dir)).toEqual({
      v: 1,
      active: {
        version: '1.1.0',
        manifest: 'fadnet-sim.manifest.json',
        onnxSha256: '9765d1c18337cf27b8d0c8c95aab6045820577cb901b2191d28ae89a592c085d',
      },
      previous: null,
      at: 1000,
      reason: 'factory',
    });
    expect((await readdir(path.join(dir, 'versions', '1.1.0'))).sort()).toEqual([
      'contents.json',
      'fadnet-sim.manifest.json',
      'fadnet-sim.onnx',
      'fadnet-sim.safetensors',
    ]);
    expect(store.pointer?.active.version).toBe('1.1.0');
  });

  it('keeps the previous model on activation', async () => {
    const store = await updated();
    expect(store.pointer?.active.version).toBe('1.2.0');
    expect(store.pointer?.previous?.version).toBe('1.1.0');
    expect(store.pointer?.reason).toBe('update to 1.2.0');
  });

  it('removes a staging folder and a version without its contents list (killed while staging)', async () => {
    await updated();
    await writeFile(path.join(dir, 'staging-probe'), 'x');
    const staging = path.join(dir, 'staging', '1.3.0-1-1');
    await (await ModelStore.attach(dir)).beginStaging('1.3.0');
    await rm(staging, { recursive: true, force: true });
    const half = path.join(dir, 'versions', '1.4.0');
    await (await import('node:fs/promises')).mkdir(half, { recursive: true });
    await writeFile(path.join(half, 'fadnet-sim.onnx'), 'half');
    const store = await ModelStore.open(dir, { seed: SEED, log });
    expect(await readdir(path.join(dir, 'versions'))).toEqual(['1.1.0', '1.2.0']);
    expect(await readdir(dir)).not.toContain('staging');
    expect(lines).toEqual(['model store: discarded versions/1.4.0: no contents.json']);
    expect(store.pointer?.active.version).toBe('1.2.0');
  });

  it('falls back to the previous model when the active one no longer verifies', async () => {
    await updated();
    await appendFile(path.join(dir, 'versions', '1.2.0', 'fadnet-sim.onnx'), 'x');
    const store = await ModelStore.open(dir, { seed: SEED, log, now: () => 2000 });
    expect(lines).toEqual([
      'model store: discarded versions/1.2.0: fadnet-sim.onnx does not match its sha256',
      'model store: active 1.2.0 does not verify; back on 1.1.0',
    ]);
    expect(store.pointer).toMatchObject({
      active: { version: '1.1.0' },
      previous: null,
      at: 2000,
      reason: 'recovered: 1.2.0 did not verify',
    });
  });

  it('drops a leftover temporary pointer (killed while writing it) and keeps the pointer', async () => {
    await updated();
    const before = await readFile(path.join(dir, 'active.json'), 'utf8');
    await writeFile(path.join(dir, 'active.json.tmp-99-1'), '{"v":1,"act');
    await ModelStore.open(dir, { seed: SEED, log });
    expect(await readFile(path.join(dir, 'active.json'), 'utf8')).toBe(before);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('rolls back and forth between active and previous', async () => {
    const store = await updated();
    const p = await store.rollback('jitter');
    expect({ active: p.active.version, previous: p.previous?.version, reason: p.reason }).toEqual({
      active: '1.1.0',
      previous: '1.2.0',
      reason: 'rollback: jitter',
    });
  });

  it('refuses a rollback without a previous model, naming the store', async () => {
    const store = await ModelStore.open(dir, { seed: SEED, log });
    await expect(store.rollback('x')).rejects.toThrow(
      new StoreError(dir, 'has no previous model to roll back to from 1.1.0'),
    );
    await expect(store.rollback('x')).rejects.toThrow(
      `model store ${dir}: has no previous model to roll back to from 1.1.0`,
    );
  });

  it('resumes from the chunks on disk, re-checking each against the signed release', async () => {
    const store = await ModelStore.open(dir, { seed: SEED, log });
    const artifact = new Uint8Array(4000).map((_, i) => i & 0xff);
    const key = generateSiloKeys();
    const release: Release = signRelease(
      {
        v: 1,
        fleet: 'lab',
        name: 'fadnet-sim',
        version: '1.2.0',
        signer: 'release',
        createdAt: 1,
        allowDowngrade: false,
        artifact: describeArtifact(artifact, 1024),
        golden: { expected: [0], tolerance: 1e-3 },
        latencyBudgetMs: 50,
        probation: { seconds: 0, maxJitter: 0.5 },
      },
      key.privateKey,
    );
    const sha = release.artifact.sha256;
    expect([...(await store.heldChunks(release))]).toEqual([]);
    await store.writeChunk(sha, 0, artifact.subarray(0, 1024));
    await store.writeChunk(sha, 2, artifact.subarray(2048, 3072));
    // A chunk file damaged on disk is not held: it is fetched again.
    await store.writeChunk(sha, 3, artifact.subarray(1, 929));
    expect([...(await store.heldChunks(release))].sort()).toEqual([0, 2]);
    expect(await readdir(path.join(dir, 'partial', sha))).toEqual(['0.chunk', '2.chunk', 'release.json']);
    await store.writeChunk(sha, 1, artifact.subarray(1024, 2048));
    await store.writeChunk(sha, 3, artifact.subarray(3072));
    expect(await store.assemble(release)).toEqual(artifact);
  });

  it('records refused releases by artifact', async () => {
    const store = await ModelStore.open(dir, { seed: SEED, log, now: () => 5 });
    const sha = 'ab'.repeat(32);
    expect(await store.rejection(sha)).toBeUndefined();
    await store.recordRejection(sha, '1.3.0', 'golden_mismatch', 'golden input 0 gives 0.1');
    expect(await store.rejection(sha)).toEqual({
      version: '1.3.0',
      kind: 'golden_mismatch',
      message: 'golden input 0 gives 0.1',
      at: 5,
    });
  });
});
