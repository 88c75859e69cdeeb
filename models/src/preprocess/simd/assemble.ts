// Assembles every WebAssembly text module of the project into the .wasm beside it
// (`npm run build:wasm`). The binaries are committed so the runtime needs no assembler; the tests
// (test/preprocess/simd.test.ts, test/models/train-simd.test.ts) check they are up to date.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

export const WAT_URL = new URL('./pair-mean.wat', import.meta.url);
export const WASM_URL = new URL('./pair-mean.wasm', import.meta.url);
export const TRAIN_WAT_URL = new URL('../../tfjs/simd/train-kernels.wat', import.meta.url);
export const TRAIN_WASM_URL = new URL('../../tfjs/simd/train-kernels.wasm', import.meta.url);

/** Source and binary of each module. */
export const WASM_MODULES: readonly { readonly wat: URL; readonly wasm: URL }[] = [
  { wat: WAT_URL, wasm: WASM_URL },
  { wat: TRAIN_WAT_URL, wasm: TRAIN_WASM_URL },
];

/** A module's bytes, assembled from its text with SIMD and bulk memory enabled. */
export async function assembleWat(wat: URL): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const name = fileURLToPath(wat).split(/[\\/]/).pop()!;
  const module = wabt.parseWat(name, await readFile(wat, 'utf8'), { simd: true, bulk_memory: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

export async function assemblePairMean(): Promise<Uint8Array> {
  return assembleWat(WAT_URL);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const m of WASM_MODULES) {
    const bytes = await assembleWat(m.wat);
    await writeFile(m.wasm, bytes);
    console.log(`wrote ${fileURLToPath(m.wasm)} (${bytes.length} bytes)`);
  }
}
