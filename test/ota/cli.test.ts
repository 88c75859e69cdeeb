// `fadnet ota` and `fadnet node ota` as a user meets them: real processes, a real broker, real
// files. Usage on --help, numeric flags checked with one line, publish to a broker a robot's link
// then verifies, and status and rollback on a robot's store.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addTrustedKey,
  publicKeyPem,
  readTrustedKeysFile,
  startEmbeddedBroker,
  writeSiloKeys,
  type EmbeddedBroker,
} from '../../fleet/exchange/index.ts';
import { checkRelease, ModelStore, MqttOtaLink } from '../../fleet/ota/index.ts';
import { readWeightsFile, writeModelPackage } from '../../models/src/files.ts';
import { until } from '../helpers/until.ts';

const CLI = path.resolve('bin/fadnet.mjs');
const SEED = path.resolve('models/shipped/fadnet-sim.manifest.json');

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function fadnet(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let work: string;
let pkgDir: string;
let broker: EmbeddedBroker;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'fadnet-ota-cli-'));
  pkgDir = path.join(work, 'release');
  await writeModelPackage({
    dir: pkgDir,
    name: 'fadnet-sim',
    version: '1.2.0',
    weights: await readWeightsFile(path.resolve('models/shipped/fadnet-sim.safetensors')),
    provenance: { data: [], rounds: 0, date: '2026-12-01T00:00:00.000Z' },
  });
  broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await broker.close();
  await rm(work, { recursive: true, force: true });
});

describe('fadnet ota', () => {
  it('prints usage for --help, exit 0', async () => {
    const cases: [string[], string][] = [
      [['ota', '--help'], 'usage: fadnet ota <command>'],
      [['ota', 'publish', '--help'], 'usage: fadnet ota publish --fleet NAME --model DIR|MANIFEST --key KEY'],
      [['node', 'ota', '--help'], 'usage: fadnet node ota [--embedded]'],
    ];
    const results = await Promise.all(cases.map(([args]) => fadnet(...args)));
    expect(results.map((r) => ({ code: r.code, head: r.stdout.split('\n')[0] }))).toEqual(
      cases.map(([, head]) => ({ code: 0, head: expect.stringContaining(head) as unknown })),
    );
  });

  it('checks numeric flags with one line naming the flag and the value, exit 2', async () => {
    const base = ['ota', 'publish', '--fleet', 'lab', '--model', pkgDir, '--key', 'k.key'];
    const cases: [string[], string][] = [
      [['--tolerance', 'abc'], '--tolerance must be a number above 0, got "abc"'],
      [['--chunk-bytes', '10'], '--chunk-bytes must be a whole number from 1024 to 16777216, got "10"'],
    ];
    const results = await Promise.all(cases.map(([flags]) => fadnet(...base, ...flags)));
    expect(results.map((r) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr.trim() }))).toEqual(
      cases.map(([, message]) => ({
        code: 2,
        stdout: '',
        stderr: `fadnet ota publish: ${message} (fadnet ota publish --help shows the usage)`,
      })),
    );
  });

  it('publishes a signed release that a robot finds retained and verifies', async () => {
    const keys = await writeSiloKeys('release', path.join(work, 'keys'));
    const trustedFile = path.join(work, 'keys', 'trusted.json');
    await addTrustedKey(trustedFile, 'release', publicKeyPem(keys.keys.publicKey));
    const r = await fadnet(
      'ota',
      'publish',
      '--fleet',
      'lab',
      '--model',
      pkgDir,
      '--key',
      keys.privateKeyPath,
      '--broker',
      broker.url,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^published fadnet-sim@1\.2\.0 to fleet lab on mqtt:\/\/127\.0\.0\.1:\d+: 62 chunks, \d+ bytes, artifact sha256 [0-9a-f]{12}…, signed by release\n$/,
    );
    // A robot connecting afterwards gets it from the broker's retained message.
    const link = await MqttOtaLink.connect({ url: broker.url, fleet: 'lab', client: 'robot-1' });
    const payloads: Uint8Array[] = [];
    link.onRelease((p) => payloads.push(p));
    await until('the retained release', () => payloads.length > 0, 20_000);
    const release = checkRelease(payloads[0]!, 'lab', await readTrustedKeysFile(trustedFile));
    expect({ name: release.name, version: release.version, chunks: release.artifact.chunks.length }).toEqual({
      name: 'fadnet-sim',
      version: '1.2.0',
      chunks: 62,
    });
    expect(release.golden.expected).toHaveLength(8);
    await link.close();
  });

  it('shows and rolls back a robot store', async () => {
    const dir = path.join(work, 'store');
    const store = await ModelStore.open(dir, { seed: SEED, log: () => {} });
    await store.activate(
      await store.importPackage(path.join(pkgDir, 'fadnet-sim.manifest.json')),
      'update to 1.2.0',
    );
    const [rolled, again] = await Promise.all([
      fadnet('ota', 'rollback', '--store', dir, '--reason', 'steers late in the gym'),
      fadnet('ota', 'rollback', '--store', path.join(work, 'empty')),
    ]);
    expect({ code: rolled.code, stdout: rolled.stdout }).toEqual({
      code: 0,
      stdout: 'rolled back to 1.1.0 (from 1.2.0): steers late in the gym\n',
    });
    const shown = await fadnet('ota', 'status', '--store', dir, '--json');
    const status = JSON.parse(shown.stdout) as {
      pointer: { active: { version: string }; previous: { version: string }; reason: string };
    };
    expect({
      active: status.pointer.active.version,
      previous: status.pointer.previous.version,
      reason: status.pointer.reason,
    }).toEqual({ active: '1.1.0', previous: '1.2.0', reason: 'rollback: steers late in the gym' });
    expect({ code: again.code, stderr: again.stderr.trim() }).toEqual({
      code: 1,
      stderr: `fadnet ota rollback: model store ${path.join(work, 'empty')}: has no active model`,
    });
  });
});
