// The WebAssembly API as the project's hand-written SIMD kernels use it (models/src/preprocess/simd,
// models/src/tfjs/training/simd). Node's type declarations cover only part of the WebAssembly namespace,
// so the parts used are typed here once.
import { readFileSync } from 'node:fs';

export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: abstract new (...args: never[]) => WasmMemory;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The compiled module in the file at `url`, or null when this runtime cannot compile it (no
 * SIMD, say): callers then run their JavaScript path.
 */
export function compileWasm(url: URL): object | null {
  try {
    return new wasm.Module(readFileSync(url));
  } catch {
    return null;
  }
}
