// Polls a condition that real I/O (a pty, a socket, a worker, a subprocess) makes true some time
// later; tests on the injected clock step time instead and never need this.
import { setTimeout as sleep } from 'node:timers/promises';

/** Polling interval: short enough not to slow a test, long enough to let I/O callbacks run. */
const EVERY_MS = 2;

/**
 * Resolves once `cond()` is true, checked at once and then every few milliseconds; rejects
 * naming `what` when it is still false after `timeoutMs`.
 */
export async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(EVERY_MS);
  }
}
