// A pty pair from socat (Debian package `socat`): a real serial-like device pair for tests
// and the benchmark. Killing socat is an unplug; starting it again on the same links, a replug.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export class PtyPairError extends Error {
  override readonly name = 'PtyPairError';
}

export class PtyPair {
  readonly bridgePath: string;
  readonly mcuPath: string;
  #proc: ChildProcess | undefined;

  constructor(dir: string) {
    this.bridgePath = `${dir}/bridge-tty`;
    this.mcuPath = `${dir}/mcu-tty`;
  }

  /** Starts socat and waits until both links exist. */
  async plug(): Promise<void> {
    const proc = spawn(
      'socat',
      [`pty,raw,echo=0,link=${this.bridgePath}`, `pty,raw,echo=0,link=${this.mcuPath}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (e) => reject(new PtyPairError(`cannot run socat: ${e.message}`, { cause: e })));
    });
    this.#proc = proc;
    for (let i = 0; i < 200; i++) {
      if (existsSync(this.bridgePath) && existsSync(this.mcuPath)) return;
      await Promise.race([sleep(10), failed]);
      if (proc.exitCode !== null)
        throw new PtyPairError(`socat exited with ${proc.exitCode}: ${stderr.trim()}`);
    }
    throw new PtyPairError(`socat did not create ${this.bridgePath} within 2 s`);
  }

  /** Kills socat: both ends see the line drop, as when a USB serial adapter is pulled. */
  async unplug(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }
}
