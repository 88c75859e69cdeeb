// The FADNet parity fixture (test/fixtures/fadnet/README.md), found relative to this file so the
// tests run from any working directory of a plain clone.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/fadnet/', import.meta.url));

/** The fixture's files. */
export type FixtureFile = 'weights.safetensors' | 'inputs.f32' | 'outputs.f32' | 'features.f32';

/** The path of one of the fixture's files; throws naming it when it is missing. */
export function fixtureFile(name: FixtureFile): string {
  const file = `${FIXTURE_DIR}${name}`;
  if (!existsSync(file)) throw new Error(`fixture file ${name} is missing from test/fixtures/fadnet`);
  return file;
}

function readF32(name: FixtureFile): Float32Array {
  const buf = readFileSync(fixtureFile(name));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export interface Fixture {
  readonly weightsBytes: Uint8Array;
  readonly inputs: Float32Array;
  readonly outputs: Float32Array;
  readonly features: Float32Array;
}

export function loadFixture(): Fixture {
  return {
    weightsBytes: new Uint8Array(readFileSync(fixtureFile('weights.safetensors'))),
    inputs: readF32('inputs.f32'),
    outputs: readF32('outputs.f32'),
    features: readF32('features.f32'),
  };
}
