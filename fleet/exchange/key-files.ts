// Key files on disk: `fadnet fleet keygen` writes them, silos read them. The private key is
// written with mode 0600 from the start (never world-readable, even for an instant), and the
// trusted-keys file is replaced atomically so a reader never sees half a file.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { ensureDir, writeFileAtomic } from '../../common/index.ts';

import { TrustedKeysError } from './errors.ts';
import {
  generateSiloKeys,
  parseSiloKey,
  parseTrustedKeys,
  privateKeyPem,
  publicKeyPem,
  trustedKeysSchema,
  type SiloKeys,
  type TrustedKeys,
  type TrustedKeysFile,
} from './keys.ts';
import { checkName } from './topics.ts';

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new TrustedKeysError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  }
}

export async function readSiloKeyFile(path: string): Promise<SiloKeys> {
  return parseSiloKey(await readText(path), path);
}

export async function readTrustedKeysFile(path: string): Promise<TrustedKeys> {
  return parseTrustedKeys(await readText(path), path);
}

export interface WrittenKeys {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  readonly keys: SiloKeys;
}

/** Writes `<dir>/<id>.key` (PKCS#8 PEM, mode 0600) and `<dir>/<id>.pub.pem`; refuses to overwrite a key. */
export async function writeSiloKeys(id: string, dir: string): Promise<WrittenKeys> {
  checkName('silo', id);
  await ensureDir(dir);
  const keys = generateSiloKeys();
  const privateKeyPath = join(dir, `${id}.key`);
  const publicKeyPath = join(dir, `${id}.pub.pem`);
  try {
    await writeFile(privateKeyPath, privateKeyPem(keys.privateKey), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new TrustedKeysError(
      privateKeyPath,
      (error as NodeJS.ErrnoException).code === 'EEXIST'
        ? 'exists already; not overwriting a key'
        : 'cannot be written',
      { cause: error },
    );
  }
  await writeFile(publicKeyPath, publicKeyPem(keys.publicKey), { mode: 0o644 });
  return { privateKeyPath, publicKeyPath, keys };
}

/** Adds (or replaces) one silo's public key in a trusted-keys file, creating the file if needed. */
export async function addTrustedKey(path: string, id: string, publicKeyPemText: string): Promise<void> {
  checkName('silo', id);
  let file: TrustedKeysFile = { version: 1, silos: {} };
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TrustedKeysError(path, 'cannot be read', { cause: error });
    }
  }
  if (text !== undefined) {
    parseTrustedKeys(text, path); // every existing entry must still be a valid key
    file = trustedKeysSchema.parse(JSON.parse(text));
  }
  const next: TrustedKeysFile = { version: 1, silos: { ...file.silos, [id]: publicKeyPemText } };
  await writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`);
}
