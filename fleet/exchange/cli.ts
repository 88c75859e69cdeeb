// `fadnet fleet keygen --id ID --out DIR [--trusted FILE]`: a silo's Ed25519 signing key (mode
// 0600) and public key, optionally added to the fleet's trusted-keys file. Thin: flags in, the
// key-file adapter, one line out per file written.

import { parseCommandArgs, requiredArg } from '../../common/index.ts';
import { addTrustedKey, writeSiloKeys } from './key-files.ts';
import { publicKeyPem } from './keys.ts';

const USAGE = `usage: fadnet fleet keygen --id ID --out DIR [--trusted FILE]

Writes DIR/ID.key (the silo's Ed25519 private key, PKCS#8 PEM, mode 0600; never overwritten)
and DIR/ID.pub.pem (its public key). With --trusted, adds ID's public key to that trusted-keys
file ({"version":1,"silos":{"ID":"<PEM>"}}), creating it if needed; every silo of a fleet
verifies updates against the same file.`;

export async function keygenCommand(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(args, {
    id: { type: 'string' },
    out: { type: 'string' },
    trusted: { type: 'string' },
  });
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const id = requiredArg('--id', parsed.values.id);
  const out = requiredArg('--out', parsed.values.out);
  const written = await writeSiloKeys(id, out);
  console.log(`private key ${written.privateKeyPath} (mode 0600)`);
  console.log(`public key  ${written.publicKeyPath}`);
  if (parsed.values.trusted !== undefined) {
    await addTrustedKey(parsed.values.trusted, id, publicKeyPem(written.keys.publicKey));
    console.log(`trusted     ${parsed.values.trusted} (silo ${id})`);
  }
  return 0;
}
