// A data-parallel training replica in a worker thread (started by replicas.ts). It holds its
// own model on its own TensorFlow.js backend and no optimiser: each step it takes the current
// weights and its slice of the batch from shared memory, computes its gradients with batch
// norm synchronised through the all-reduce, and contributes them to the gradient all-reduce.
// The main thread applies the update.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { FadnetTfjs } from '../fadnet/tfjs-model.ts';
import { initTfjs } from '../tfjs/backend.ts';
import { trainingOps } from '../tfjs/training/ops.ts';
import { initialWeights } from '../weights/weight-set.ts';
import { SharedAllReduce } from './all-reduce.ts';
import {
  errorInfoOf,
  inputViews,
  ReplicaInitSchema,
  ToReplicaSchema,
  type FromReplica,
} from './replica-protocol.ts';
import { assignFlat, flattenInto, sliceGradients, valueCount } from './replica-step.ts';

const port = parentPort;
if (port === null) throw new Error('replica-worker.ts runs only as a worker thread');
const init = ReplicaInitSchema.parse(workerData);

await initTfjs({ order: [init.backend], log: () => {} });
// Any valid weights will do: the main thread sends the real ones before every step.
const model = FadnetTfjs.create(initialWeights(0), trainingOps(init.backend));
const params = model.trainableVariables();
const weights = new Float32Array(init.weights);
const slice = inputViews(init.inputs, init.sliceSize, init.input);
const allReduce = new SharedAllReduce(init.allReduce, init.rank, { timeoutMs: init.timeoutMs });
const flat = new Float64Array(valueCount(params) + 1);

function step(): void {
  assignFlat(params, weights);
  const r = sliceGradients(model, params, slice, init.batchSize, init.input, allReduce);
  try {
    flattenInto(r.grads, flat);
    flat[flat.length - 1] = r.loss.dataSync()[0]!;
  } finally {
    tf.dispose([r.loss, ...r.grads, ...r.runningUpdates.values()]);
  }
  allReduce.sum(flat); // the main thread keeps the total
}

function send(message: FromReplica): void {
  port!.postMessage(message);
}

port.on('message', (raw: unknown) => {
  const message = ToReplicaSchema.parse(raw);
  switch (message.type) {
    case 'step':
      try {
        step();
        send({ type: 'done', step: message.step });
      } catch (error) {
        allReduce.abort(); // wake the other ranks now rather than at their timeout
        send({ type: 'failed', step: message.step, error: errorInfoOf(error) });
      }
      break;
  }
});
send({ type: 'ready' });
