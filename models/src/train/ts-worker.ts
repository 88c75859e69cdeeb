// Worker threads that run TypeScript. The CLI runs through tsx and the tests through vitest,
// and neither loader reaches worker threads (on Node 20 tsx registers its hooks on the main
// thread only, even when given to a worker as --import). So a worker starts from a small
// JavaScript bootstrap that registers tsx in that thread and then imports the TypeScript
// entry. The bootstrap resolves tsx from its own location, so this works from any cwd.
import { Worker, type WorkerOptions } from 'node:worker_threads';

const BOOTSTRAP = new URL('./ts-worker-bootstrap.mjs', import.meta.url);

/** Starts `entry` (a .ts module URL) in a worker thread that can import TypeScript. */
export function startTsWorker(entry: URL, options: Omit<WorkerOptions, 'argv' | 'eval'> = {}): Worker {
  return new Worker(BOOTSTRAP, { ...options, argv: [entry.href] });
}
