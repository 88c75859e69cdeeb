// Silo keys on disk and the trusted-keys file: `fadnet fleet keygen` as a real process, file
// modes, and every way a trusted-keys file can be wrong, each with its exact message.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  addTrustedKey,
  connect,
  ExchangeConfigError,
  generateSiloKeys,
  parseTrustedKeys,
  publicKeyPem,
  readSiloKeyFile,
  readTrustedKeysFile,
  signEnvelope,
  startEmbeddedBroker,
  TrustedKeysError,
  verifyEnvelope,
  writeSiloKeys,
  type Envelope,
} from '../../fleet/exchange/index.ts';

const run = promisify(execFile);
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fadnet-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fadnet fleet keygen', () => {
  it('writes a 0600 private key, its public key and the trusted-keys entry; refuses to overwrite', async () => {
    const out = join(dir, 'keygen');
    const trustedPath = join(dir, 'trusted.json');
    const cli = (id: string) =>
      run(process.execPath, [
        'bin/fadnet.mjs',
        'fleet',
        'keygen',
        '--id',
        id,
        '--out',
        out,
        '--trusted',
        trustedPath,
      ]);
    const { stdout } = await cli('robot-1');
    expect(stdout).toBe(
      `private key ${join(out, 'robot-1.key')} (mode 0600)\npublic key  ${join(out, 'robot-1.pub.pem')}\ntrusted     ${trustedPath} (silo robot-1)\n`,
    );
    await cli('robot-2');
    expect((await stat(join(out, 'robot-1.key'))).mode & 0o777).toBe(0o600);
    const keys = await readSiloKeyFile(join(out, 'robot-1.key'));
    expect(publicKeyPem(keys.publicKey)).toBe(await readFile(join(out, 'robot-1.pub.pem'), 'utf8'));
    const trusted = await readTrustedKeysFile(trustedPath);
    expect([...trusted.keys()]).toEqual(['robot-1', 'robot-2']);
    expect(trusted.get('robot-1')!.equals(keys.publicKey)).toBe(true);

    // A signature made with the file's key verifies against the trusted entry.
    const e: Envelope = {
      fleet: 'f',
      silo: 'robot-1',
      round: 0,
      counter: 1,
      encoding: 'f16',
      size: 1,
      count: 1,
      sha256: '0'.repeat(64),
    };
    expect(verifyEnvelope(e, signEnvelope(e, keys.privateKey), trusted.get('robot-1')!)).toBe(true);

    const again = await cli('robot-1').then(
      () => 'succeeded',
      (error: { code: number; stderr: string }) => `${error.code} ${error.stderr}`,
    );
    const key1 = join(out, 'robot-1.key');
    expect(again).toBe(
      `1 fadnet fleet: ${key1}: exists already; not overwriting a key: caused by: EEXIST: file already exists, open '${key1}'\n`,
    );
  });

  it('refuses a silo id that cannot be a topic level', async () => {
    await expect(writeSiloKeys('a/b', dir)).rejects.toThrow(
      new ExchangeConfigError(
        `silo name "a/b" is not usable in a topic: use 1-64 letters, digits, '-' or '_'`,
      ),
    );
  });
});

describe('trusted-keys file', () => {
  const pem = publicKeyPem(generateSiloKeys().publicKey);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();

  it.each([
    ['not JSON', '{', 'trusted.json: is not JSON'],
    [
      'a wrong version',
      JSON.stringify({ version: 2, silos: {} }),
      'trusted.json: is not a trusted-keys file: ✖ Invalid input: expected 1;   → at version',
    ],
    [
      'a silo id with a slash',
      JSON.stringify({ version: 1, silos: { 'a/b': pem } }),
      'trusted.json silo "a/b": is not a usable silo id (1-64 letters, digits, - and _)',
    ],
    [
      'something that is not a PEM key',
      JSON.stringify({ version: 1, silos: { a: 'ssh-ed25519 AAAA' } }),
      'trusted.json: is not a trusted-keys file: ✖ an SPKI PEM public key;   → at silos.a',
    ],
    [
      'a broken PEM',
      JSON.stringify({
        version: 1,
        silos: { a: '-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n' },
      }),
      'trusted.json silo a: is not a PEM public key',
    ],
    [
      'an RSA key',
      JSON.stringify({ version: 1, silos: { a: rsa } }),
      'trusted.json silo a: holds a rsa key, not Ed25519',
    ],
  ])('refuses %s, naming the file and the entry', (_name, text, message) => {
    expect(() => parseTrustedKeys(text, 'trusted.json')).toThrow(TrustedKeysError);
    expect(() => parseTrustedKeys(text, 'trusted.json')).toThrow(message);
  });

  it('a missing file is a TrustedKeysError naming it', async () => {
    const path = join(dir, 'nope.json');
    await expect(readTrustedKeysFile(path)).rejects.toThrow(`${path}: cannot be read (ENOENT)`);
  });

  it('addTrustedKey keeps the other entries and refuses to extend a damaged file', async () => {
    const path = join(dir, 'fleet.json');
    await addTrustedKey(path, 'a', pem);
    await addTrustedKey(path, 'b', pem);
    expect([...(await readTrustedKeysFile(path)).keys()]).toEqual(['a', 'b']);
    await writeFile(
      path,
      '{"version":1,"silos":{"a":"-----BEGIN PUBLIC KEY-----\\nxx\\n-----END PUBLIC KEY-----"}}',
    );
    await expect(addTrustedKey(path, 'c', pem)).rejects.toThrow(`${path} silo a: is not a PEM public key`);
  });
});

describe('connect checks the silo key against its trusted entry', () => {
  it('refuses a key that peers would not accept, before touching the broker', async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    try {
      const mine = generateSiloKeys();
      const listed = generateSiloKeys();
      await expect(
        connect({
          url: broker.url,
          fleet: 'f',
          silo: 'a',
          keys: mine,
          trusted: new Map([['a', listed.publicKey]]),
          encoding: 'f16',
        }),
      ).rejects.toThrow(
        new ExchangeConfigError(
          `silo "a"'s key does not match its entry in the trusted keys: peers would refuse every update`,
        ),
      );
    } finally {
      await broker.close();
    }
  });
});
