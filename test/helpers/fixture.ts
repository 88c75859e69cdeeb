// The shared parity fixture, found relative to the project root as the shared/ README asks.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const SHARED_DIR = path.resolve(process.cwd(), '../shared');
export const FIXTURE_DIR = path.join(SHARED_DIR, 'reference/fadnet');

export function sharedFile(relative: string): string {
  const file = path.join(SHARED_DIR, relative);
  if (!existsSync(file)) {
    throw new Error(
      `shared file ${relative} is missing: tests expect the shared/ folder beside the project root`,
    );
  }
  return file;
}

export function readF32(relative: string): Float32Array {
  const buf = readFileSync(sharedFile(relative));
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
    weightsBytes: new Uint8Array(readFileSync(sharedFile('reference/fadnet/weights.safetensors'))),
    inputs: readF32('reference/fadnet/inputs.f32'),
    outputs: readF32('reference/fadnet/outputs.f32'),
    features: readF32('reference/fadnet/features.f32'),
  };
}
