// Replacing a file so that a reader, or a crash at any instant, sees either the old contents or
// the new, never half a file: checkpoints, model packages, key lists.
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir } from './ensure-dir.ts';

/** Write a temporary file beside `file`, flush it to disk, then rename it over `file`. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await ensureDir(path.dirname(file));
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
