// Synchronous all-reduce (element-wise sum) between data-parallel replicas that run in worker
// threads of one process, over one SharedArrayBuffer.
//
// Why synchronous: batch norm needs the global statistics in the middle of a forward pass and
// the global gradient sums in the middle of the backward pass, inside TensorFlow.js ops that
// cannot await. So each call blocks on Atomics.wait until every rank has contributed.
//
// Each call is one barrier. Contributions go to one of two slot sets chosen by the parity of
// the call count: a rank that leaves call c early can only write call c+1's slots, and it
// cannot reach call c+2 (and overwrite call c's slots) before every rank has arrived at c+1,
// i.e. finished reading call c. After the barrier every rank sums the slots itself in rank
// order, so every rank holds bit-identical results.
//
// Waits are sliced and checked against an abort flag and an overall timeout: a rank that
// fails aborts the group and wakes the others at once; a rank that dies without a word makes
// the others give up after the timeout. Either way the caller gets an AllReduceError, never a
// hang.
import { AllReduceError } from '../errors.ts';

/** Element-wise sum across replicas; every replica passes the same length and gets the same result. */
export interface CrossReplicaSum {
  sum(values: ArrayLike<number>): Float64Array;
}

/** The shared state of one all-reduce group: plain data that can be posted to a worker. */
export interface AllReduceMemory {
  readonly buffer: SharedArrayBuffer;
  readonly ranks: number;
  /** Largest number of values one call may reduce. */
  readonly capacity: number;
}

// Control words (Int32): barrier arrivals, barrier generation, abort flag (aborting rank + 1),
// then each rank's contributed length for each of the two slot sets.
const ARRIVED = 0;
const GENERATION = 1;
const ABORTED = 2;
const LENGTHS = 3;

function headerBytes(ranks: number): number {
  return Math.ceil(((LENGTHS + 2 * ranks) * 4) / 8) * 8; // Float64 slots follow, 8-aligned
}

export function createAllReduceMemory(ranks: number, capacity: number): AllReduceMemory {
  if (!Number.isInteger(ranks) || ranks < 1)
    throw new RangeError(`all-reduce needs at least 1 rank, got ${ranks}`);
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`all-reduce capacity must be a positive integer, got ${capacity}`);
  const buffer = new SharedArrayBuffer(headerBytes(ranks) + 2 * ranks * capacity * 8);
  return { buffer, ranks, capacity };
}

export interface AllReduceOptions {
  /** Longest one call waits for the other ranks before it aborts the group. */
  readonly timeoutMs?: number;
  /** Longest single Atomics.wait between checks of the abort flag and the clock. */
  readonly sliceMs?: number;
}

export class SharedAllReduce implements CrossReplicaSum {
  readonly rank: number;
  readonly ranks: number;
  readonly #control: Int32Array;
  /** slots[parity][rank] */
  readonly #slots: Float64Array[][];
  readonly #capacity: number;
  readonly #timeoutMs: number;
  readonly #sliceMs: number;
  #calls = 0;

  constructor(memory: AllReduceMemory, rank: number, options: AllReduceOptions = {}) {
    const { buffer, ranks, capacity } = memory;
    if (!Number.isInteger(rank) || rank < 0 || rank >= ranks)
      throw new RangeError(`rank ${rank} is outside an all-reduce group of ${ranks}`);
    if (buffer.byteLength !== headerBytes(ranks) + 2 * ranks * capacity * 8)
      throw new RangeError(
        `shared buffer of ${buffer.byteLength} bytes does not fit ${ranks} ranks x ${capacity} values`,
      );
    this.rank = rank;
    this.ranks = ranks;
    this.#capacity = capacity;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#sliceMs = options.sliceMs ?? 100;
    this.#control = new Int32Array(buffer, 0, LENGTHS + 2 * ranks);
    const base = headerBytes(ranks);
    this.#slots = [0, 1].map((parity) =>
      Array.from(
        { length: ranks },
        (_, r) => new Float64Array(buffer, base + (parity * ranks + r) * capacity * 8, capacity),
      ),
    );
  }

  /** Largest number of values one call may reduce. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Calls completed or attempted so far; the same on every rank of a healthy group. */
  get calls(): number {
    return this.#calls;
  }

  /**
   * Sums `values` element-wise over every rank, in rank order, and returns the total (the same
   * bits on every rank). Blocks until every rank has called; throws AllReduceError on timeout,
   * abort or a length that differs between ranks.
   */
  sum(values: ArrayLike<number>): Float64Array {
    const n = values.length;
    if (n > this.#capacity)
      throw new RangeError(`all-reduce of ${n} values exceeds the group's capacity of ${this.#capacity}`);
    const call = this.#calls++;
    this.#throwIfAborted(call);
    const parity = call % 2;
    const slots = this.#slots[parity]!;
    slots[this.rank]!.set(values);
    Atomics.store(this.#control, LENGTHS + parity * this.ranks + this.rank, n);
    this.#barrier(call);
    const out = new Float64Array(n);
    for (let r = 0; r < this.ranks; r++) {
      const theirs = Atomics.load(this.#control, LENGTHS + parity * this.ranks + r);
      if (theirs !== n) {
        throw new AllReduceError(
          `all-reduce call ${call}: rank ${this.rank} contributed ${n} values, rank ${r} ${theirs}`,
          'length-mismatch',
          this.rank,
        );
      }
      const slot = slots[r]!;
      for (let i = 0; i < n; i++) out[i] = out[i]! + slot[i]!;
    }
    return out;
  }

  /** Marks the group failed and wakes every waiting rank; later calls on any rank throw. */
  abort(): void {
    Atomics.compareExchange(this.#control, ABORTED, 0, this.rank + 1);
    Atomics.notify(this.#control, GENERATION);
  }

  /** The rank that aborted the group, or undefined while it is healthy. */
  get abortedBy(): number | undefined {
    const flag = Atomics.load(this.#control, ABORTED);
    return flag === 0 ? undefined : flag - 1;
  }

  #throwIfAborted(call: number): void {
    const by = this.abortedBy;
    if (by !== undefined) {
      throw new AllReduceError(
        `all-reduce call ${call} on rank ${this.rank}: the group was aborted by rank ${by}`,
        'aborted',
        this.rank,
      );
    }
  }

  /** A sense-reversing barrier: the last rank to arrive resets the count and bumps the generation. */
  #barrier(call: number): void {
    const c = this.#control;
    const generation = Atomics.load(c, GENERATION);
    if (Atomics.add(c, ARRIVED, 1) === this.ranks - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
      return;
    }
    const deadline = performance.now() + this.#timeoutMs;
    while (Atomics.load(c, GENERATION) === generation) {
      this.#throwIfAborted(call);
      const left = deadline - performance.now();
      if (left <= 0) {
        this.abort();
        throw new AllReduceError(
          `all-reduce call ${call}: rank ${this.rank} waited ${this.#timeoutMs} ms for the other ranks`,
          'timeout',
          this.rank,
        );
      }
      Atomics.wait(c, GENERATION, generation, Math.min(this.#sliceMs, left));
    }
  }
}
