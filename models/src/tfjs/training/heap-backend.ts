// The one typed view of the WebAssembly backend that the training kernels use, and the one place
// where tfjs's untyped kernel plumbing (a kernel's backend and attributes, runKernel's attribute
// map) meets our types. Kernels here read operands where the backend keeps them and write into
// tensors allocated there; everything else in training/ goes through these helpers.
import * as tf from '@tensorflow/tfjs-core';
import type {
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The wasm backend as the kernels on its heap use it (public methods of BackendWasm). */
export interface HeapBackend {
  /** A new float32 tensor on the heap; with `memoryOffset`, one placed in a block from malloc. */
  makeOutput(shape: number[], memoryOffset?: number): TensorInfo;
  /** A float32 view of a tensor's data on the heap (invalid once the heap grows). */
  view(t: TensorInfo): Float32Array;
  disposeData(dataId: object): void;
  incRef(dataId: object): void;
  /** A block of the backend's heap (byte offset), 0 when none is left; freed with `free`. */
  malloc(bytes: number): number;
  free(offset: number): void;
  /** The backend itself, for the SIMD module loaders (simd/heap-module.ts). */
  readonly backend: BackendWasm;
}

const adapters = new WeakMap<BackendWasm, HeapBackend>();

/** Emscripten's allocator, which the backend's module exports (its type declarations omit it). */
interface Allocator {
  _malloc(bytes: number): number;
  _free(offset: number): void;
}

function isAllocator(module: object): module is Allocator {
  return (
    '_malloc' in module &&
    typeof module._malloc === 'function' &&
    '_free' in module &&
    typeof module._free === 'function'
  );
}

/** The heap view of a kernel's backend; throws when a training kernel runs on another backend. */
export function heapBackend(backend: unknown): HeapBackend {
  if (!(backend instanceof BackendWasm)) {
    throw new Error(
      `wasm training kernels ran on a ${String((backend as object)?.constructor?.name)} backend`,
    );
  }
  const known = adapters.get(backend);
  if (known !== undefined) return known;
  const module = backend.wasm;
  if (!isAllocator(module)) throw new Error('wasm backend module exports no _malloc/_free');
  const adapter: HeapBackend = {
    makeOutput: (shape, memoryOffset) => backend.makeOutput(shape, 'float32', memoryOffset),
    view: (t) => {
      const v = backend.typedArrayFromHeap(t);
      if (!(v instanceof Float32Array))
        throw new Error(`heap kernel given a ${t.dtype} tensor, needs float32`);
      return v;
    },
    disposeData: (dataId) => {
      backend.disposeData(dataId);
    },
    incRef: (dataId) => backend.incRef(dataId),
    malloc: (bytes) => module._malloc(bytes) >>> 0,
    free: (offset) => module._free(offset),
    backend,
  };
  adapters.set(backend, adapter);
  return adapter;
}

/**
 * tfjs carries kernel attributes as an untyped map. A kernel's attributes are the record its
 * caller passed (our own kernels) or the op's documented attribute interface (stock kernels), so
 * reading them back as that type is sound; this is the one place that says so.
 */
export function attrsAs<A extends object>(attrs: NamedAttrMap | undefined): A {
  return (attrs ?? {}) as unknown as A;
}

/** A kernel of the wasm backend, with typed attributes and the heap view of its backend. */
export function heapKernel<A extends object = Record<string, never>>(
  kernelName: string,
  run: (inputs: NamedTensorInfoMap, attrs: A, backend: HeapBackend) => TensorInfo,
): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
    run(inputs, attrsAs<A>(attrs), heapBackend(backend));
  return { kernelName, backendName: 'wasm', kernelFunc };
}

/**
 * Runs a kernel with typed attributes: one of ours (the record heapKernel's `run` receives) or a
 * stock one (its documented attribute interface).
 */
export function runKernel<T extends tf.Tensor, A extends object = object>(
  kernelName: string,
  inputs: Record<string, tf.Tensor>,
  attrs?: A,
): T {
  return tf.engine().runKernel(kernelName, inputs, attrs as unknown as NamedAttrMap | undefined) as T;
}
