// The `fadnet` command line as a user meets it: the real CLI in a child process, every
// command's --help, numeric flags checked with one line, and the failures that used to hang,
// retry forever or exit 0 having done nothing.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = path.resolve('bin/fadnet.mjs');
// Each case starts the CLI afresh (tsx, then the command's modules): seconds, not milliseconds.
const SPAWN_TIMEOUT_MS = 120_000;

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

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'fadnet-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--help', () => {
  // Each prints its usage on stdout and exits 0, without starting anything.
  const cases: [string[], string][] = [
    [['--help'], 'usage: fadnet <command>'],
    [['infer', '--help'], 'usage: fadnet infer --weights'],
    [['export', '--help'], 'usage: fadnet export --weights'],
    [['train', '--help'], 'usage: fadnet train ('],
    [['sim', '--help'], 'usage: fadnet sim '],
    [['start', '--help'], 'usage: fadnet start '],
    [['node', '--help'], 'usage: fadnet node <name>'],
    [['node', 'steering', '--help'], 'usage: fadnet node steering '],
    [['node', 'bridge', '--help'], 'usage: fadnet node bridge '],
    [['bridge', '--help'], 'usage: fadnet bridge --port PATH'],
    [['bridge', '--bench', '--help'], 'usage: fadnet bridge --port PATH'],
    [['record', '--help'], 'usage: fadnet record --out'],
    [['topology', '--help'], 'usage: fadnet topology '],
    [['bench', '--help'], 'usage: fadnet bench <name>'],
    [['bench', 'inference', '--help'], 'usage: fadnet bench inference '],
    [['bench', 'train', '--help'], 'usage: fadnet bench train '],
  ];
  for (const [args, head] of cases) {
    it(
      `fadnet ${args.join(' ')}`,
      async () => {
        const r = await fadnet(...args);
        expect({ code: r.code, head: r.stdout.slice(0, head.length) }).toEqual({ code: 0, head });
      },
      SPAWN_TIMEOUT_MS,
    );
  }
});

describe('numeric flags', () => {
  // One line on stderr naming the flag and the value given, exit 2, nothing run.
  const cases: [string[], string][] = [
    [
      ['infer', '--weights', 'w', '--tensor', 't', '--threads', 'abc'],
      'fadnet infer: --threads must be a whole number from 1 to 64, got "abc"',
    ],
    [
      ['train', '--synthetic', '64', '--out', 'x', '--steps', 'abc'],
      'fadnet train: --steps must be a whole number of at least 1, got "abc"',
    ],
    [
      ['train', '--synthetic', '64', '--out', 'x', '--steps', '2', '--checkpoint-every', 'often'],
      'fadnet train: --checkpoint-every must be a whole number of steps (200) or seconds (60s), got "often"',
    ],
    [['sim', '--laps', '0'], 'fadnet sim: --laps must be a whole number of at least 1, got "0"'],
    [['sim', '--laps', '-1'], 'fadnet sim: --laps must be a whole number of at least 1, got "-1"'],
    [['sim', '--laps', 'abc'], 'fadnet sim: --laps must be a whole number of at least 1, got "abc"'],
    [
      ['sim', '--live', '--live-port', 'x'],
      'fadnet sim: --live-port must be a whole number from 0 to 65535, got "x"',
    ],
    [
      ['bridge', '--port', 'p', '--baud', 'fast'],
      'fadnet bridge: --baud must be a whole number from 1200 to 4000000, got "fast"',
    ],
  ];
  for (const [args, line] of cases) {
    it(
      `fadnet ${args.join(' ')}`,
      async () => {
        const r = await fadnet(...args);
        const lines = r.stderr.trim().split('\n');
        expect({ code: r.code, lines: lines.length, stdout: r.stdout }).toEqual({
          code: 2,
          lines: 1,
          stdout: '',
        });
        expect(lines[0]).toBe(`${line} (fadnet ${args[0]} --help shows the usage)`);
      },
      SPAWN_TIMEOUT_MS,
    );
  }
});

describe('benchmark flags', () => {
  const cases: [string[], string][] = [
    [['inference', '--threads', 'abc'], '--threads must be a whole number from 1 to 256, got "abc"'],
    [['inference', '--rate', '0'], '--rate must be a number above 0, got "0"'],
    [['train', '--steps', 'x'], '--steps must be a whole number of at least 1, got "x"'],
    [['sim', '--steps', '0'], '--steps must be a whole number of at least 1, got "0"'],
    [['nodes', '--seconds', 'ten'], '--seconds must be a number above 0, got "ten"'],
    [['preprocess', '--frames', '-5'], '--frames must be a whole number of at least 1, got "-5"'],
  ];
  for (const [args, message] of cases) {
    it(
      `fadnet bench ${args.join(' ')}`,
      async () => {
        const r = await fadnet('bench', ...args);
        expect({ code: r.code, stdout: r.stdout, stderr: r.stderr.trim() }).toEqual({
          code: 2,
          stdout: '',
          stderr: `fadnet bench ${args[0]}: ${message} (fadnet bench ${args[0]} --help shows the usage)`,
        });
      },
      SPAWN_TIMEOUT_MS,
    );
  }
});

describe('world files', () => {
  it('says each problem on its own line with the file and field, without the schema dump', async () => {
    const file = path.join(dir, 'bad-world.json');
    await writeFile(file, JSON.stringify({ name: 7 }));
    const r = await fadnet('sim', '--world', file, '--laps', '1');
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toMatch(new RegExp(`^fadnet sim: ${file}: name: `));
    for (const line of lines.slice(1)) expect(line).toMatch(new RegExp(`^${file}: [a-z_.0-9]+: `));
    expect(r.stderr).not.toContain('"code"');
  });
});

describe('fadnet bridge', () => {
  it('fails at once naming a --port that does not exist', async () => {
    const missing = path.join(dir, 'ttyNONE');
    const r = await fadnet('bridge', '--port', missing);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      `fadnet bridge: serial port ${missing}: does not exist (--wait-for-port waits for it to appear): caused by: ENOENT: no such file or directory, stat '${missing}'`,
    );
  });
});
