// Assembles every WebAssembly text module of the project into the .wasm beside it
// (`npm run build:wasm`). The binaries are committed so the runtime needs no assembler;
// test/wasm-modules.test.ts checks they are up to date.
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

/** Every WebAssembly text module lives somewhere under models/src, beside its kernels' loader. */
const SOURCE_ROOT = new URL('../', import.meta.url);

/** Source and binary of each module: every .wat under SOURCE_ROOT, with the .wasm beside it. */
export const WASM_MODULES: readonly { readonly wat: URL; readonly wasm: URL }[] = readdirSync(SOURCE_ROOT, {
  recursive: true,
  encoding: 'utf8',
})
  .filter((f) => f.endsWith('.wat'))
  .map((f) => f.split(/[\\/]/).join('/'))
  .sort()
  .map((f) => ({ wat: new URL(f, SOURCE_ROOT), wasm: new URL(f.replace(/\.wat$/, '.wasm'), SOURCE_ROOT) }));

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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const m of WASM_MODULES) {
    const bytes = await assembleWat(m.wat);
    await writeFile(m.wasm, bytes);
    console.log(`wrote ${fileURLToPath(m.wasm)} (${bytes.length} bytes)`);
  }
}
