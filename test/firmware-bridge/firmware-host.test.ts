import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

import { afterAll, describe, expect, it } from 'vitest';

import { buildHostTests, tempDir } from './toolchain.ts';

describe('firmware protocol and failsafe, compiled for the host', () => {
  const dir = tempDir('fw-host-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes every check of test_host.c', () => {
    const binary = buildHostTests(dir);
    const output = execFileSync(binary, { encoding: 'utf8' });
    expect(output).toBe('96 checks, 0 failed\n');
  });
});
