// fadnetGradients on the CPU backend in a worker thread. The CPU backend's backward pass is one
// synchronous stretch of tens of seconds (over a minute on a loaded machine); in the test's own
// thread it would keep vitest's worker from answering its runner, whose calls time out at 60 s.
import { parentPort } from 'node:worker_threads';
import { initTfjs } from '../../models/src/tfjs/backend.ts';
import { fadnetGradients } from './fadnet-gradients.ts';

await initTfjs({ order: ['cpu'], log: () => {} });
const { loss, grads } = fadnetGradients();
parentPort!.postMessage({ loss, grads: [...grads] });
