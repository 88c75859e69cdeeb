// Builds the C parts the tests run: host unit tests, the AVR firmware, the simavr harness.
// A missing Debian package fails the test with the package to install (CI installs them).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
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

interface Requirement {
  /** A command that must be on PATH, or a file that must exist. */
  readonly cmd?: string;
  readonly file?: string;
  readonly pkg: string;
}

export const NEEDS_SOCAT: readonly Requirement[] = [{ cmd: 'socat', pkg: 'socat' }];
export const NEEDS_EMULATOR: readonly Requirement[] = [
  { cmd: 'avr-gcc', pkg: 'gcc-avr' },
  { file: '/usr/lib/avr/include/avr/io.h', pkg: 'avr-libc' },
  { file: '/usr/include/simavr/sim_avr.h', pkg: 'libsimavr-dev' },
  { cmd: 'socat', pkg: 'socat' },
];

function onPath(cmd: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, cmd)));
}

/**
 * The Debian packages these tests need that are not installed. On a developer machine the
 * tests skip, naming them; in CI (CI=true, where .ci/run installs them) they always run, so a
 * missing package fails there instead of hiding.
 */
export function missingPackages(reqs: readonly Requirement[]): string[] {
  if (process.env['CI'] === 'true') return [];
  return [
    ...new Set(
      reqs.filter((r) => (r.cmd !== undefined ? !onPath(r.cmd) : !existsSync(r.file!))).map((r) => r.pkg),
    ),
  ];
}

export function needsNote(missing: readonly string[]): string {
  return missing.length === 0 ? '' : ` [skipped: apt-get install ${missing.join(' ')} (CI installs them)]`;
}
