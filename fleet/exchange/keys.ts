// Silo keys and the fleet's trusted-keys list. Every update is signed with its silo's Ed25519
// private key and verified against the public key the trusted-keys list gives for that silo id;
// a silo missing from the list is an unknown signer. Pure (parsing and key objects only); the
// file adapter is key-files.ts.

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

import { z } from 'zod';

import { TrustedKeysError } from './errors.ts';
import { NAME_PATTERN } from './topics.ts';

/** Silo id -> Ed25519 public key. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

/** A silo's signing key. */
export interface SiloKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * The trusted-keys file: `{"version":1,"silos":{"<silo id>":"<SPKI PEM public key>"}}`.
 * It lists every silo of the fleet, this one included.
 */
export const trustedKeysSchema = z.strictObject({
  version: z.literal(1),
  // Silo ids are checked in trustedKeysFrom, where the message can name the bad id.
  silos: z.record(z.string(), z.string().startsWith('-----BEGIN PUBLIC KEY-----', 'an SPKI PEM public key')),
});

export type TrustedKeysFile = z.infer<typeof trustedKeysSchema>;

export function generateSiloKeys(): SiloKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey };
}

export const publicKeyPem = (key: KeyObject): string =>
  key.export({ type: 'spki', format: 'pem' }).toString();
export const privateKeyPem = (key: KeyObject): string =>
  key.export({ type: 'pkcs8', format: 'pem' }).toString();

function requireEd25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new TrustedKeysError(source, `holds a ${key.asymmetricKeyType ?? 'symmetric'} key, not Ed25519`);
  }
  return key;
}

/** A PKCS#8 PEM private key; `source` names it in errors. */
export function parseSiloKey(pem: string, source: string): SiloKeys {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new TrustedKeysError(source, 'is not a PEM private key', { cause: error });
  }
  requireEd25519(privateKey, source);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Parses trusted-keys JSON text; throws TrustedKeysError naming the file and the bad entry. */
export function parseTrustedKeys(text: string, source: string): TrustedKeys {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TrustedKeysError(source, 'is not JSON', { cause: error });
  }
  const parsed = trustedKeysSchema.safeParse(json);
  if (!parsed.success) {
    throw new TrustedKeysError(
      source,
      `is not a trusted-keys file: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
    );
  }
  return trustedKeysFrom(parsed.data, source);
}

export function trustedKeysFrom(file: TrustedKeysFile, source: string): TrustedKeys {
  const out = new Map<string, KeyObject>();
  for (const [silo, pem] of Object.entries(file.silos)) {
    if (!NAME_PATTERN.test(silo)) {
      throw new TrustedKeysError(
        `${source} silo "${silo}"`,
        'is not a usable silo id (1-64 letters, digits, - and _)',
      );
    }
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (error) {
      throw new TrustedKeysError(`${source} silo ${silo}`, 'is not a PEM public key', { cause: error });
    }
    out.set(silo, requireEd25519(key, `${source} silo ${silo}`));
  }
  return out;
}
