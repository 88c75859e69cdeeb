// Where a training step's gradients come from: this thread alone, or synchronous data-parallel
// replicas in worker threads (one per core), each with its own TensorFlow.js backend.
//
// Replica 0 is this thread's model. Each step this thread writes the current weights and each
// worker's slice of the batch into shared memory and posts one message per worker; every
// replica computes its slice's gradients with batch norm synchronised across replicas; the
// gradients and loss are all-reduced; this thread gets the whole batch's gradient, up to
// float rounding the one a single replica computes on the whole batch. Workers hold no
// optimiser state, so there is nothing to keep in step but the weights sent each time.
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { AllReduceError, ReplicaError } from '../errors.ts';
import type { FrameSize } from '../fadnet/geometry.ts';
import type { FadnetTfjs } from '../fadnet/tfjs-model.ts';
import type { BackendName } from '../tfjs/backend.ts';
import { createAllReduceMemory, SharedAllReduce } from './all-reduce.ts';
import {
  errorFromInfo,
  FromReplicaSchema,
  inputBytes,
  inputViews,
  type ReplicaInit,
  type ToReplica,
} from './replica-protocol.ts';
import { flattenInto, sliceGradients, sliceOf, sliceSizes, valueCount, type Batch } from './replica-step.ts';
import { startTsWorker } from './ts-worker.ts';

export interface StepGradients {
  /** The whole batch's mean squared error. */
  readonly loss: number;
  /** The whole batch's gradient of every parameter, end to end in the parameters' order. */
  readonly grads: Float32Array | Float64Array;
  /** New BN running statistics of the whole batch. */
  readonly runningUpdates: ReadonlyMap<string, tf.Tensor1D>;
}

/** Computes one step's gradients of a whole batch; the caller disposes the running updates. */
export interface GradientSource {
  readonly replicas: number;
  compute(batch: Batch): Promise<StepGradients>;
  close(): Promise<void>;
}

/**
 * Replicas to use when not told: one per core on the WebAssembly backend, whose kernels run
 * on one thread each, capped at 2 (the gain beyond is unmeasured); native TensorFlow
 * threads its own kernels.
 */
export function defaultReplicas(backend: BackendName, cores = availableParallelism()): number {
  return backend === 'wasm' && cores >= 2 ? 2 : 1;
}

/** The whole batch on this thread: the plain training step. */
export class LocalGradients implements GradientSource {
  readonly replicas = 1;
  readonly #model: FadnetTfjs;
  readonly #params: readonly tf.Variable[];
  readonly #input: FrameSize;

  /** `input`: each frame's size, the training dataset's. */
  constructor(model: FadnetTfjs, params: readonly tf.Variable[], input: FrameSize) {
    this.#model = model;
    this.#params = params;
    this.#input = { height: input.height, width: input.width };
  }

  async compute(batch: Batch): Promise<StepGradients> {
    const r = sliceGradients(this.#model, this.#params, batch, batch.y.length, this.#input);
    try {
      const grads = new Float32Array(valueCount(this.#params));
      flattenInto(r.grads, grads);
      return { loss: (await r.loss.data())[0]!, grads, runningUpdates: r.runningUpdates };
    } catch (error) {
      tf.dispose([...r.runningUpdates.values()]);
      throw error;
    } finally {
      tf.dispose([r.loss, ...r.grads]);
    }
  }

  async close(): Promise<void> {}
}

interface Peer {
  readonly rank: number;
  readonly worker: Worker;
  readonly inputs: ReturnType<typeof inputViews>;
  readonly start: number;
  /** Settles with the worker's answer to the step in flight. */
  pending: { resolve: () => void; reject: (error: Error) => void } | undefined;
}

export interface ReplicaGroupOptions {
  readonly model: FadnetTfjs;
  readonly params: readonly tf.Variable[];
  readonly batchSize: number;
  /** Each frame's size, the training dataset's; sent to every worker. */
  readonly input: FrameSize;
  readonly replicas: number;
  readonly backend: BackendName;
  /** Longest a replica waits for the others at one synchronisation point. */
  readonly timeoutMs?: number;
}

export class ReplicaGroup implements GradientSource {
  readonly replicas: number;
  readonly #model: FadnetTfjs;
  readonly #params: readonly tf.Variable[];
  readonly #batchSize: number;
  readonly #input: FrameSize;
  readonly #ownSize: number;
  readonly #allReduce: SharedAllReduce;
  readonly #weights: Float32Array;
  readonly #peers: Peer[];
  /** This replica's gradients and loss, end to end: its contribution to the all-reduce. */
  readonly #flat: Float64Array;
  #steps = 0;
  /** Why the group stopped; set once, after which every step is refused. */
  #failure: Error | undefined;

  private constructor(
    options: ReplicaGroupOptions,
    allReduce: SharedAllReduce,
    weights: Float32Array,
    peers: Peer[],
  ) {
    this.replicas = options.replicas;
    this.#model = options.model;
    this.#params = options.params;
    this.#batchSize = options.batchSize;
    this.#input = { height: options.input.height, width: options.input.width };
    this.#ownSize = sliceSizes(options.batchSize, options.replicas)[0]!;
    this.#allReduce = allReduce;
    this.#weights = weights;
    this.#peers = peers;
    this.#flat = new Float64Array(allReduce.capacity);
  }

  /** Starts replicas 1.. in worker threads and resolves once each has its model ready. */
  static async start(options: ReplicaGroupOptions): Promise<ReplicaGroup> {
    const { replicas, batchSize } = options;
    if (!Number.isInteger(replicas) || replicas < 2 || replicas > batchSize)
      throw new RangeError(
        `a replica group needs 2 to ${batchSize} replicas (the batch size), got ${replicas}`,
      );
    const timeoutMs = options.timeoutMs ?? 30_000;
    const count = valueCount(options.params);
    const memory = createAllReduceMemory(replicas, count + 1);
    const weights = new SharedArrayBuffer(count * 4);
    const sizes = sliceSizes(batchSize, replicas);
    // Only the height and width cross the thread boundary, whatever object carried them.
    const input = { height: options.input.height, width: options.input.width };
    const peers: Peer[] = [];
    let start = sizes[0]!;
    for (let rank = 1; rank < replicas; rank++) {
      const n = sizes[rank]!;
      const inputs = new SharedArrayBuffer(inputBytes(n, input));
      const init: ReplicaInit = {
        rank,
        backend: options.backend,
        batchSize,
        sliceSize: n,
        input,
        timeoutMs,
        allReduce: memory,
        weights,
        inputs,
      };
      const worker = startTsWorker(new URL('./replica-worker.ts', import.meta.url), { workerData: init });
      peers.push({ rank, worker, inputs: inputViews(inputs, n, input), start, pending: undefined });
      start += n;
    }
    const group = new ReplicaGroup(
      options,
      new SharedAllReduce(memory, 0, { timeoutMs }),
      new Float32Array(weights),
      peers,
    );
    const ready = peers.map((peer) => group.#listen(peer));
    // Starting a worker (tsx, the wasm backend) takes seconds; one that never reports is stuck.
    const startMs = 2 * timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ReplicaError(`a replica did not start within ${startMs} ms`, 0)),
        startMs,
      );
    });
    try {
      await Promise.race([Promise.all(ready), stuck]);
    } catch (error) {
      await group.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    for (const peer of peers) peer.worker.unref(); // an idle group never keeps the process alive
    return group;
  }

  /** Wires one worker's messages and exit; resolves when it reports ready. */
  #listen(peer: Peer): Promise<void> {
    const { worker, rank } = peer;
    const ready = new Promise<void>((resolve, reject) => {
      peer.pending = { resolve, reject };
    });
    const settle = (error?: Error): void => {
      const pending = peer.pending;
      peer.pending = undefined;
      if (error === undefined) pending?.resolve();
      else pending?.reject(error);
    };
    worker.on('message', (raw: unknown) => {
      const parsed = FromReplicaSchema.safeParse(raw);
      if (!parsed.success) {
        this.#fail(
          new ReplicaError(`replica ${rank} sent a malformed message`, rank, { cause: parsed.error }),
        );
        settle(this.#failure);
        return;
      }
      const message = parsed.data;
      switch (message.type) {
        case 'ready':
        case 'done':
          settle();
          break;
        case 'failed':
          settle(
            new ReplicaError(
              `replica ${rank} failed in step ${message.step}: ${message.error.message}`,
              rank,
              {
                cause: errorFromInfo(message.error),
              },
            ),
          );
          break;
      }
    });
    worker.on('error', (error) => {
      const failure = new ReplicaError(`replica ${rank} stopped: ${error.message}`, rank, { cause: error });
      this.#fail(failure);
      settle(failure);
    });
    worker.on('exit', (code) => {
      const failure = new ReplicaError(`replica ${rank} exited with code ${code}`, rank);
      this.#fail(failure);
      settle(failure);
    });
    return ready;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#allReduce.abort();
  }

  async compute(batch: Batch): Promise<StepGradients> {
    if (this.#failure !== undefined)
      throw new ReplicaError('the replica group stopped after an earlier failure', 0, {
        cause: this.#failure,
      });
    if (batch.y.length !== this.#batchSize)
      throw new RangeError(
        `batch of ${batch.y.length} samples, the group was started for ${this.#batchSize}`,
      );
    const { height, width } = this.#input;
    if (batch.x.length !== this.#batchSize * height * width)
      throw new RangeError(
        `batch of ${batch.x.length} frame values is not ${this.#batchSize} x 1 x ${height} x ${width}, the size the group was started for`,
      );
    const step = this.#steps++;
    flattenInto(this.#params, this.#weights);
    const answers = this.#peers.map((peer) => {
      const n = peer.inputs.y.length;
      const slice = sliceOf(batch, peer.start, n);
      peer.inputs.x.set(slice.x);
      peer.inputs.y.set(slice.y);
      peer.inputs.mask.set(slice.mask);
      const answer = new Promise<void>((resolve, reject) => {
        peer.pending = { resolve, reject };
      });
      peer.worker.ref(); // keep the process alive until the workers answer
      peer.worker.postMessage({ type: 'step', step } satisfies ToReplica);
      return answer;
    });
    let updates: ReadonlyMap<string, tf.Tensor1D> = new Map();
    try {
      const flat = this.#flat;
      const own = sliceGradients(
        this.#model,
        this.#params,
        sliceOf(batch, 0, this.#ownSize),
        this.#batchSize,
        this.#input,
        this.#allReduce,
      );
      updates = own.runningUpdates;
      try {
        flattenInto(own.grads, flat);
        flat[flat.length - 1] = own.loss.dataSync()[0]!;
      } finally {
        tf.dispose([own.loss, ...own.grads]);
      }
      const total = this.#allReduce.sum(flat);
      await Promise.all(answers);
      return {
        loss: total[total.length - 1]!,
        grads: total.subarray(0, total.length - 1),
        runningUpdates: updates,
      };
    } catch (error) {
      for (const u of updates.values()) u.dispose();
      throw await this.#explain(error, answers);
    } finally {
      for (const peer of this.#peers) peer.worker.unref();
    }
  }

  /**
   * After a failed step: stops the group and finds the root cause. When this thread's wait was
   * cut short by a worker, that worker's own error (which arrives as a message once this thread
   * is free to receive it) is the one to report.
   */
  async #explain(error: unknown, answers: Promise<void>[]): Promise<Error> {
    this.#fail(error instanceof Error ? error : new Error(String(error)));
    const grace = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 2_000).unref());
    const outcomes = await Promise.all(
      answers.map((a) =>
        Promise.race([
          a.then(
            () => undefined,
            (e: unknown) => e,
          ),
          grace,
        ]).then((r) => (r === 'late' ? undefined : r)),
      ),
    );
    const fromWorker = outcomes.find((o): o is ReplicaError => o instanceof ReplicaError);
    if (fromWorker !== undefined) return fromWorker;
    if (error instanceof AllReduceError && error.reason === 'timeout') {
      return new ReplicaError(`a replica did not answer within the timeout: ${error.message}`, 0, {
        cause: error,
      });
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  /** Terminates the workers; the group is unusable afterwards. */
  async close(): Promise<void> {
    this.#failure ??= new ReplicaError('the replica group was closed', 0);
    this.#allReduce.abort();
    await Promise.all(this.#peers.map((peer) => peer.worker.terminate()));
  }
}
