// Instantiation of a WebAssembly kernel module on the tfjs wasm backend's own heap. The module
// imports the backend's memory ("env" "memory"), so its kernels read operands where tfjs keeps
// them and write into tensors tfjs allocated, with no copies in or out. The memory is reached
// through the backend's Emscripten module (`wasm.asm.memory`), which is not public API; when it
// is not there, the runtime cannot compile the module (no SIMD) or the heap cannot be imported
// (a shared one, in tfjs's threaded build), the kernels are unavailable and callers keep their
// other path.
import { compileWasm, wasm, type WasmMemory } from '../../../wasm/module.ts';

/** Byte offset in the heap of a view of it; throws for a view of another buffer. */
export type HeapAddress = (v: Float32Array) => number;

/**
 * The loader of the module in the file at `url`: for a backend, its kernels bound to that
 * backend's heap by `bind` (instantiated once per heap), or null when they cannot run there.
 */
export function heapModule<E, K>(
  url: URL,
  bind: (exports: E, at: HeapAddress) => K,
): (backend: unknown) => K | null {
  let compiled: object | null | undefined;
  const bound = new WeakMap<WasmMemory, K>();
  return (backend) => {
    const memory = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
    if (!(memory instanceof wasm.Memory)) return null;
    const known = bound.get(memory);
    if (known !== undefined) return known;
    compiled ??= compileWasm(url);
    if (compiled === null) return null;
    let exports: E;
    try {
      exports = new wasm.Instance(compiled, { env: { memory } }).exports as E;
    } catch {
      return null;
    }
    const at: HeapAddress = (v) => {
      // A view of another buffer would make a kernel read the wrong bytes: a programming error.
      if (v.buffer !== memory.buffer) throw new Error('SIMD kernel given a view outside the backend heap');
      return v.byteOffset;
    };
    const kernels = bind(exports, at);
    bound.set(memory, kernels);
    return kernels;
  };
}
