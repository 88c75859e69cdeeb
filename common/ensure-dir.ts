// Creating an output folder and its missing parents. Node's `mkdir(dir, { recursive: true })`
// spins forever at full CPU under /proc (each mkdir there fails with ENOENT, which its loop
// reads as "create the parent first"), so `--out /proc/x` would hang a command; this walks up
// to the deepest folder that exists and creates the rest one level at a time, failing with the
// level that could not be made.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** An output folder that cannot be used: `dir` is the one asked for, the message says why. */
export class DirectoryError extends Error {
  override readonly name = 'DirectoryError';
  constructor(
    readonly dir: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Makes `dir` and any missing parents; resolves when `dir` is a directory. */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(at)).isDirectory();
    } catch (error) {
      if (code(error) !== 'ENOENT')
        throw new DirectoryError(dir, `cannot use ${at}: ${(error as Error).message}`, { cause: error });
      missing.push(at);
      if (path.dirname(at) === at) break;
      continue;
    }
    if (!isDirectory) throw new DirectoryError(dir, `cannot create ${dir}: ${at} is not a directory`);
    break;
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level);
    } catch (error) {
      // Another process may create the same folder meanwhile; that is success.
      if (code(error) === 'EEXIST' && (await stat(level)).isDirectory()) continue;
      throw new DirectoryError(dir, `cannot create directory ${level}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
