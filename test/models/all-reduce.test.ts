// The all-reduce between training replicas, with every rank in a real worker thread.
import { describe, expect, it } from 'vitest';
import { AllReduceError } from '../../models/src/errors.ts';
import {
  createAllReduceMemory,
  SharedAllReduce,
  type AllReduceMemory,
} from '../../models/src/train/all-reduce.ts';
import { startTsWorker } from '../../models/src/train/ts-worker.ts';
import type { PlanResult, PlanStep } from '../helpers/all-reduce-worker.ts';

const WORKER = new URL('../helpers/all-reduce-worker.ts', import.meta.url);

function runRank(
  memory: AllReduceMemory,
  rank: number,
  plan: PlanStep[],
  timeoutMs = 20_000,
): Promise<PlanResult> {
  const worker = startTsWorker(WORKER, { workerData: { memory, rank, timeoutMs, plan } });
  return new Promise<PlanResult>((resolve, reject) => {
    worker.once('message', (result: PlanResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

function bits(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('hex');
}

/** Values where the order of summation shows: 1e16 + 1 rounds back to 1e16. */
function contribution(rank: number, call: number, length: number): Float64Array {
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const special = [1e16, 1, -1e16][rank];
    out[i] =
      i % 5 === 0 && special !== undefined ? special : Math.sin(rank * 7919 + call * 104_729 + i) * 1e3;
  }
  return out;
}

describe('SharedAllReduce', () => {
  it('sums in rank order on 3 worker threads, every rank getting the same bits', async () => {
    const ranks = 3;
    const lengths = [1, 5, 4096, 100_000, 0, 17, 33_333, 3];
    const calls = Array.from({ length: 24 }, (_, k) => lengths[k % lengths.length]!);
    const memory = createAllReduceMemory(ranks, 100_000);
    const results = await Promise.all(
      Array.from({ length: ranks }, (_, rank) =>
        runRank(
          memory,
          rank,
          calls.map((n, call) => ({ kind: 'sum', values: contribution(rank, call, n) })),
        ),
      ),
    );
    calls.forEach((n, call) => {
      const expected = new Float64Array(n);
      for (let rank = 0; rank < ranks; rank++) {
        const c = contribution(rank, call, n);
        for (let i = 0; i < n; i++) expected[i] = expected[i]! + c[i]!;
      }
      for (const result of results) expect(bits(result.sums[call]!), `call ${call}`).toBe(bits(expected));
    });
    // The order is visible: (1e16 + 1) - 1e16 is 0 in float64, not 1.
    expect(results[0]!.sums[1]![0]).toBe(0);
    expect(results.every((r) => r.error === undefined)).toBe(true);
  });

  it('wakes the other ranks with a typed error when one aborts', async () => {
    const memory = createAllReduceMemory(2, 4);
    const sum: PlanStep = { kind: 'sum', values: new Float64Array([1, 2]) };
    const [waiting, failing] = await Promise.all([
      runRank(memory, 0, [sum, sum, sum]),
      runRank(memory, 1, [sum, sum, { kind: 'abort' }, sum]),
    ]);
    expect(waiting.sums).toHaveLength(2);
    expect(waiting.error).toEqual({
      name: 'AllReduceError',
      reason: 'aborted',
      message: 'all-reduce call 2 on rank 0: the group was aborted by rank 1',
    });
    expect(failing.error?.message).toBe('all-reduce call 2 on rank 1: the group was aborted by rank 1');
  });

  it('gives up after the timeout when a rank is gone, and aborts the group', async () => {
    const memory = createAllReduceMemory(2, 4);
    const sum: PlanStep = { kind: 'sum', values: new Float64Array([1]) };
    const [left, gone] = await Promise.all([
      runRank(memory, 0, [sum, sum], 300),
      runRank(memory, 1, [sum, { kind: 'exit' }]),
    ]);
    expect(gone.sums).toHaveLength(1);
    expect(left.error).toEqual({
      name: 'AllReduceError',
      reason: 'timeout',
      message: 'all-reduce call 1: rank 0 waited 300 ms for the other ranks',
    });
    expect(new SharedAllReduce(memory, 1).abortedBy).toBe(0);
  });

  it('times out on this thread too, with no worker ever arriving', () => {
    const group = new SharedAllReduce(createAllReduceMemory(2, 1), 0, { timeoutMs: 50, sliceMs: 10 });
    let caught: unknown;
    try {
      group.sum([1]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AllReduceError);
    expect((caught as AllReduceError).reason).toBe('timeout');
    expect(() => group.sum([1])).toThrow(
      new AllReduceError('all-reduce call 1 on rank 0: the group was aborted by rank 0', 'aborted', 0),
    );
  });

  it('refuses contributions of different lengths on every rank', async () => {
    const memory = createAllReduceMemory(2, 8);
    const [a, b] = await Promise.all([
      runRank(memory, 0, [{ kind: 'sum', values: new Float64Array(3) }]),
      runRank(memory, 1, [{ kind: 'sum', values: new Float64Array(4) }]),
    ]);
    expect(a.error?.message).toBe('all-reduce call 0: rank 0 contributed 3 values, rank 1 4');
    expect(b.error?.message).toBe('all-reduce call 0: rank 1 contributed 4 values, rank 0 3');
    expect(a.error?.reason).toBe('length-mismatch');
  });

  it('is the identity for one rank and checks its arguments', () => {
    const one = new SharedAllReduce(createAllReduceMemory(1, 3), 0);
    expect(Array.from(one.sum([1.5, -2, 3]))).toEqual([1.5, -2, 3]);
    expect(() => one.sum([1, 2, 3, 4])).toThrow("all-reduce of 4 values exceeds the group's capacity of 3");
    expect(() => new SharedAllReduce(createAllReduceMemory(2, 3), 2)).toThrow(
      'rank 2 is outside an all-reduce group of 2',
    );
  });
});
