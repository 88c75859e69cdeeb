// Every WebAssembly text module of the project against the binary committed beside it: the
// runtime loads the .wasm, so an edit to a .wat that was not assembled (`npm run build:wasm`)
// would otherwise ship the old kernel.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assembleWat, WASM_MODULES } from '../models/src/wasm/assemble.ts';

describe('committed WebAssembly binaries', () => {
  it('finds the kernel modules', () => {
    const names = WASM_MODULES.map((m) => fileURLToPath(m.wat).split(/[\\/]/).pop());
    expect(names).toEqual(expect.arrayContaining(['pair-mean.wat', 'train-kernels.wat']));
  });

  it.each(WASM_MODULES.map((m) => [fileURLToPath(m.wat).split(/[\\/]/).pop()!, m] as const))(
    '%s assembles to the committed .wasm',
    async (_name, m) => {
      const committed = new Uint8Array(await readFile(m.wasm));
      expect(Buffer.from(committed).equals(Buffer.from(await assembleWat(m.wat)))).toBe(true);
    },
  );
});
