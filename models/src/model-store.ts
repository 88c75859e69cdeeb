// The robot's model store as its readers see it: which complete, verified model package drives
// (`active.json`) and which one drove before it. The OTA agent (fleet/ota) is the only writer;
// the steering node follows the pointer, possibly from another process. The pointer is replaced
// atomically (write, fsync, rename), so a reader, or a restart after power loss, sees the old
// pointer or the new one, never half of one; it only ever names folders the writer verified
// before writing it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ManifestError } from './errors.ts';
import { PlainFileName, SemanticVersion } from './manifest.ts';

export const ACTIVE_POINTER_FILE = 'active.json';
export const VERSIONS_DIR = 'versions';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

/** One stored model: `versions/<version>/<manifest>` under the store. */
export const StoredModelRefSchema = z.strictObject({
  version: SemanticVersion,
  /** The manifest's file name inside the version folder. */
  manifest: PlainFileName,
  /** The ONNX file's sha256 (from its manifest), so a reader notices a replaced folder. */
  onnxSha256: Sha256,
});
export type StoredModelRef = z.infer<typeof StoredModelRefSchema>;

export const ActivePointerSchema = z.strictObject({
  v: z.literal(1),
  active: StoredModelRefSchema,
  previous: StoredModelRefSchema.nullable(),
  /** Wall-clock ms when this pointer was written. */
  at: z.number().int().nonnegative(),
  /** Why the pointer moved: "factory", "update", "rollback: <reason>". */
  reason: z.string(),
});
export type ActivePointer = z.infer<typeof ActivePointerSchema>;

/** The manifest path of a stored model. */
export function storedManifestPath(store: string, ref: StoredModelRef): string {
  return path.join(store, VERSIONS_DIR, ref.version, ref.manifest);
}

/**
 * The store's pointer, or undefined when the store has none yet (a robot before its first
 * model). A pointer that exists but does not parse is an error naming the file: the writer
 * never leaves one, so something else wrote it.
 */
export async function readActivePointer(store: string): Promise<ActivePointer | undefined> {
  const file = path.join(store, ACTIVE_POINTER_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ManifestError(`${file} cannot be read`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${file} is not JSON`, { cause: error });
  }
  const parsed = ActivePointerSchema.safeParse(json);
  if (!parsed.success) {
    throw new ManifestError(`${file} is not a model store pointer: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
