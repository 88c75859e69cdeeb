// Builds the C parts the tests run: host unit tests, the AVR firmware, the simavr harness.
// A missing Debian package fails the test with the package to install (CI installs them).
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BRIDGE_DIR = resolve(import.meta.dirname, '../../firmware-bridge');

export class ToolchainError extends Error {
  override readonly name = 'ToolchainError';
}

function run(cmd: string, args: readonly string[], hint: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { code?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new ToolchainError(`${cmd} not found: apt-get install ${hint}`, { cause: error });
    throw new ToolchainError(`${cmd} ${args.join(' ')} failed: ${e.stderr ?? ''}`, { cause: error });
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Compiles and returns the host unit-test binary of proto.c and control.c. */
export function buildHostTests(dir: string): string {
  const out = join(dir, 'test_host');
  const src = join(BRIDGE_DIR, 'firmware');
  run(
    'cc',
    [
      '-std=c11',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-o',
      out,
      `${src}/test/test_host.c`,
      `${src}/src/proto.c`,
      `${src}/src/control.c`,
    ],
    'gcc',
  );
  return out;
}

/** Runs `npm run firmware:build`'s script; returns the ELF path and the size line. */
export function buildFirmware(): { elf: string; sizeReport: string } {
  const report = run('sh', [join(BRIDGE_DIR, 'firmware/build.sh')], 'gcc-avr avr-libc');
  return { elf: join(BRIDGE_DIR, 'firmware/build/firmware.elf'), sizeReport: report.trim() };
}

export function buildHarness(dir: string): string {
  const out = join(dir, 'harness');
  run(
    'cc',
    [
      '-std=gnu11',
      '-O2',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-I/usr/include/simavr',
      '-o',
      out,
      join(BRIDGE_DIR, 'sim/harness.c'),
      '-lsimavr',
      '-lm',
    ],
    'libsimavr-dev',
  );
  return out;
}
