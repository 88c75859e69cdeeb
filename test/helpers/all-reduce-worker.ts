// A rank of an all-reduce group in a worker thread, for all-reduce.test.ts: runs a plan of
// calls given as workerData and posts what each call returned or threw.
import { parentPort, workerData } from 'node:worker_threads';
import { AllReduceError } from '../../models/src/errors.ts';
import { SharedAllReduce, type AllReduceMemory } from '../../models/src/train/all-reduce.ts';

export type PlanStep =
  | { readonly kind: 'sum'; readonly values: Float64Array }
  | { readonly kind: 'abort' }
  | { readonly kind: 'exit' };

export interface PlanResult {
  readonly sums: Float64Array[];
  readonly error?: { readonly name: string; readonly reason: string; readonly message: string };
}

const { memory, rank, timeoutMs, plan } = workerData as {
  memory: AllReduceMemory;
  rank: number;
  timeoutMs: number;
  plan: PlanStep[];
};
const group = new SharedAllReduce(memory, rank, { timeoutMs });
const sums: Float64Array[] = [];
let error: PlanResult['error'];
try {
  for (const step of plan) {
    if (step.kind === 'exit') break;
    if (step.kind === 'abort') group.abort();
    else sums.push(group.sum(step.values));
  }
} catch (e) {
  if (!(e instanceof AllReduceError)) throw e;
  error = { name: e.name, reason: e.reason, message: e.message };
}
parentPort!.postMessage({ sums, ...(error === undefined ? {} : { error }) } satisfies PlanResult);
