// Assembles pair-mean.wat into pair-mean.wasm (`npm run build:wasm`). The binary is committed so
// the runtime needs no assembler; test/models/preprocess-simd.test.ts checks it is up to date.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

export const WAT_URL = new URL('./pair-mean.wat', import.meta.url);
export const WASM_URL = new URL('./pair-mean.wasm', import.meta.url);

/** The module's bytes, assembled from the text with SIMD enabled. */
export async function assemblePairMean(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat('pair-mean.wat', await readFile(WAT_URL, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assemblePairMean();
  await writeFile(WASM_URL, bytes);
  console.log(`wrote ${fileURLToPath(WASM_URL)} (${bytes.length} bytes)`);
}
