// The robot's model store on disk: the source of truth across power loss (layout in README.md).
//
//   active.json             the pointer (models/src/model-store.ts): active and previous model
//   versions/<version>/     complete, verified packages; contents.json (written last) lists
//                           every file with its sha256
//   partial/<sha256>/       a download in progress: release.json and one <index>.chunk per
//                           verified chunk, so a download resumes from what it holds
//   staging/<name>/         a package being written; never read, removed on open
//   rejected.json           releases refused (by artifact sha256), so none is fetched twice
//   state.json              the agent's last status
//   health.json             written by the steering node (nodes/steering/health.ts)
//
// Every file is written with writeFileAtomic (write, fsync, rename). A package becomes a version
// by one directory rename after all its files are on disk, and the pointer moves only to a
// version that exists: a kill at any instant leaves the pointer naming a complete package. open()
// re-verifies every version and repairs the pointer if it names one that does not verify.
import { open as openFile, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ensureDir, writeFileAtomic } from '../../common/index.ts';
import { ManifestSchema, PlainFileName, SemanticVersion } from '../../models/src/manifest.ts';
import {
  ACTIVE_POINTER_FILE,
  readActivePointer,
  VERSIONS_DIR,
  type ActivePointer,
  type StoredModelRef,
} from '../../models/src/model-store.ts';
import { HEALTH_FILE, SteeringHealthSchema, type SteeringHealth } from '../../nodes/steering/health.ts';
import { sha256Hex } from '../exchange/index.ts';
import { StoreError } from './errors.ts';
import { ReleaseSchema, type Release } from './release.ts';
import { OtaStatusSchema, type OtaReasonKind, type OtaStatus } from './status.ts';
import { compareVersions } from './version.ts';

const PARTIAL_DIR = 'partial';
const STAGING_DIR = 'staging';
const CONTENTS_FILE = 'contents.json';
const REJECTED_FILE = 'rejected.json';
const STATE_FILE = 'state.json';
const RELEASE_FILE = 'release.json';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const ContentsSchema = z.strictObject({
  v: z.literal(1),
  name: PlainFileName,
  version: SemanticVersion,
  /** The manifest's file name; the others are listed in files. */
  manifest: PlainFileName,
  files: z.array(
    z.strictObject({ name: PlainFileName, bytes: z.number().int().nonnegative(), sha256: Sha256 }),
  ),
  origin: z.enum(['factory', 'release']),
  /** The signed release it came from (null for the factory model). */
  release: ReleaseSchema.nullable(),
});
export type Contents = z.infer<typeof ContentsSchema>;

const RejectedSchema = z.strictObject({
  v: z.literal(1),
  releases: z.record(
    Sha256,
    z.strictObject({ version: z.string(), kind: z.string(), message: z.string(), at: z.number() }),
  ),
});
export type RejectedRelease = z.infer<typeof RejectedSchema>['releases'][string];

export interface ModelStoreOptions {
  /** The factory model package (its manifest), installed when the store has no model yet. */
  readonly seed?: string;
  readonly log?: (line: string) => void;
  readonly now?: () => number;
}

async function readJson<S extends z.ZodType>(file: string, schema: S): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return schema.parse(JSON.parse(text));
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** A package being written into staging/; nothing reads it until commit() renames it. */
export interface Staging {
  readonly dir: string;
  write(name: string, data: Uint8Array): Promise<void>;
}

export class ModelStore {
  readonly dir: string;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  #pointer: ActivePointer | undefined;

  private constructor(dir: string, o: ModelStoreOptions) {
    this.dir = dir;
    this.#log = o.log ?? ((line) => console.error(line));
    this.#now = o.now ?? Date.now;
  }

  /** Opens the store, discarding whatever is not complete and verified, and repairs the pointer. */
  static async open(dir: string, o: ModelStoreOptions = {}): Promise<ModelStore> {
    const store = new ModelStore(dir, o);
    try {
      await store.#recover(o.seed);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(dir, `cannot be opened: ${(error as Error).message}`, { cause: error });
    }
    return store;
  }

  /**
   * The store as another process sees it while the agent runs (`fadnet ota status`, `rollback`):
   * no recovery, which would remove the agent's work in progress.
   */
  static async attach(dir: string, o: ModelStoreOptions = {}): Promise<ModelStore> {
    const store = new ModelStore(dir, o);
    await store.reload();
    return store;
  }

  async #recover(seed: string | undefined): Promise<void> {
    await ensureDir(path.join(this.dir, VERSIONS_DIR));
    await ensureDir(path.join(this.dir, PARTIAL_DIR));
    await rm(path.join(this.dir, STAGING_DIR), { recursive: true, force: true });
    for (const name of await entries(this.dir)) {
      // Temporary files of a write that a kill interrupted (not the steering node's health file,
      // which it may be writing now).
      if (name.includes('.tmp-') && !name.startsWith(HEALTH_FILE))
        await rm(path.join(this.dir, name), { force: true });
    }
    const verified = new Map<string, Contents>();
    for (const version of await entries(path.join(this.dir, VERSIONS_DIR))) {
      const checked = await this.#verify(version);
      if (typeof checked === 'string') {
        this.#log(`model store: discarded versions/${version}: ${checked}`);
        await rm(path.join(this.dir, VERSIONS_DIR, version), { recursive: true, force: true });
      } else verified.set(version, checked);
    }
    let pointer: ActivePointer | undefined;
    try {
      pointer = await readActivePointer(this.dir);
    } catch (error) {
      this.#log(`model store: ${(error as Error).message}; rebuilding it`);
    }
    const ok = (ref: StoredModelRef | null | undefined): ref is StoredModelRef => {
      const contents = ref === null || ref === undefined ? undefined : verified.get(ref.version);
      return (
        contents !== undefined &&
        contents.manifest === ref!.manifest &&
        this.#refOf(contents).onnxSha256 === ref!.onnxSha256
      );
    };
    if (pointer !== undefined && ok(pointer.active)) {
      this.#pointer = pointer;
      if (pointer.previous !== null && !ok(pointer.previous)) {
        await this.#writePointer({ ...pointer, previous: null, at: this.#now() });
      }
      return;
    }
    if (pointer !== undefined && ok(pointer.previous)) {
      this.#log(
        `model store: active ${pointer.active.version} does not verify; back on ${pointer.previous.version}`,
      );
      await this.#writePointer({
        v: 1,
        active: pointer.previous,
        previous: null,
        at: this.#now(),
        reason: `recovered: ${pointer.active.version} did not verify`,
      });
      return;
    }
    const newest = [...verified.values()].sort((a, b) => compareVersions(b.version, a.version))[0];
    if (newest !== undefined) {
      await this.#writePointer({
        v: 1,
        active: this.#refOf(newest),
        previous: null,
        at: this.#now(),
        reason: 'recovered',
      });
      return;
    }
    if (seed !== undefined) {
      const ref = await this.importPackage(seed);
      await this.#writePointer({ v: 1, active: ref, previous: null, at: this.#now(), reason: 'factory' });
    }
  }

  #refOf(c: Contents): StoredModelRef {
    const onnx = c.files.find((f) => f.name.endsWith('.onnx'));
    return { version: c.version, manifest: c.manifest, onnxSha256: onnx?.sha256 ?? '' };
  }

  /** A version folder's contents when every file is there with its sha256, else why not. */
  async #verify(version: string): Promise<Contents | string> {
    const dir = path.join(this.dir, VERSIONS_DIR, version);
    let contents: Contents | undefined;
    try {
      contents = await readJson(path.join(dir, CONTENTS_FILE), ContentsSchema);
    } catch (error) {
      return `${CONTENTS_FILE} is unreadable (${(error as Error).message.split('\n')[0]})`;
    }
    if (contents === undefined) return `no ${CONTENTS_FILE}`;
    if (contents.version !== version) return `${CONTENTS_FILE} says version ${contents.version}`;
    for (const f of contents.files) {
      let data: Uint8Array;
      try {
        data = await readFile(path.join(dir, f.name));
      } catch {
        return `${f.name} is missing`;
      }
      if (data.byteLength !== f.bytes || sha256Hex(data) !== f.sha256)
        return `${f.name} does not match its sha256`;
    }
    if (!contents.files.some((f) => f.name === contents.manifest)) return `the manifest is not listed`;
    try {
      const manifest = ManifestSchema.parse(
        JSON.parse(await readFile(path.join(dir, contents.manifest), 'utf8')),
      );
      const onnx = contents.files.find((f) => f.name === manifest.onnx.file);
      if (onnx?.sha256 !== manifest.onnx.sha256) return `the ONNX file is not the one its manifest names`;
    } catch (error) {
      return `the manifest does not parse (${(error as Error).message.split('\n')[0]})`;
    }
    return contents;
  }

  /** The verified contents of a stored version, or undefined. */
  async verified(version: string): Promise<Contents | undefined> {
    const checked = await this.#verify(version);
    return typeof checked === 'string' ? undefined : checked;
  }

  refOf(contents: Contents): StoredModelRef {
    return this.#refOf(contents);
  }

  get pointer(): ActivePointer | undefined {
    return this.#pointer;
  }

  /** Re-reads the pointer (`fadnet ota rollback` may have moved it from another process). */
  async reload(): Promise<ActivePointer | undefined> {
    this.#pointer = await readActivePointer(this.dir);
    return this.#pointer;
  }

  async #writePointer(p: ActivePointer): Promise<void> {
    await writeFileAtomic(path.join(this.dir, ACTIVE_POINTER_FILE), `${JSON.stringify(p, null, 2)}\n`);
    this.#pointer = p;
  }

  /** Points at `ref` (a committed version), keeping the model active until now as previous. */
  async activate(ref: StoredModelRef, reason: string): Promise<void> {
    await this.#writePointer({
      v: 1,
      active: ref,
      previous: this.#pointer?.active ?? null,
      at: this.#now(),
      reason,
    });
  }

  /** Back to the previous model; the one rolled back from becomes previous. */
  async rollback(reason: string): Promise<ActivePointer> {
    const p = await this.reload();
    if (p === undefined) throw new StoreError(this.dir, 'has no active model');
    if (p.previous === null)
      throw new StoreError(this.dir, `has no previous model to roll back to from ${p.active.version}`);
    if ((await this.verified(p.previous.version)) === undefined)
      throw new StoreError(this.dir, `previous model ${p.previous.version} does not verify`);
    const next: ActivePointer = {
      v: 1,
      active: p.previous,
      previous: p.active,
      at: this.#now(),
      reason: `rollback: ${reason}`,
    };
    await this.#writePointer(next);
    return next;
  }

  /** Copies a model package (manifest, ONNX, safetensors) into the store as a verified version. */
  async importPackage(manifestPath: string, release: Release | null = null): Promise<StoredModelRef> {
    const manifestText = await readFile(manifestPath);
    const manifest = ManifestSchema.parse(JSON.parse(manifestText.toString('utf8')));
    const files = new Map<string, Uint8Array>([[path.basename(manifestPath), manifestText]]);
    const dir = path.dirname(manifestPath);
    files.set(manifest.onnx.file, await readFile(path.join(dir, manifest.onnx.file)));
    if (manifest.weights !== undefined)
      files.set(manifest.weights.file, await readFile(path.join(dir, manifest.weights.file)));
    const staging = await this.beginStaging(manifest.version);
    for (const [name, data] of files) await staging.write(name, data);
    const contents = await this.finishStaging(staging, {
      name: manifest.name,
      version: manifest.version,
      manifest: path.basename(manifestPath),
      origin: release === null ? 'factory' : 'release',
      release,
    });
    await this.commit(staging, manifest.version);
    return this.#refOf(contents);
  }

  async beginStaging(version: string): Promise<Staging> {
    const dir = path.join(this.dir, STAGING_DIR, `${version}-${process.pid}-${this.#now()}`);
    await ensureDir(dir);
    const written = new Map<string, Uint8Array>();
    return {
      dir,
      write: async (name, data) => {
        PlainFileName.parse(name);
        await writeFileAtomic(path.join(dir, name), data);
        written.set(name, data);
      },
    };
  }

  /** Writes contents.json last: from then on the folder verifies. */
  async finishStaging(staging: Staging, o: Omit<Contents, 'v' | 'files'>): Promise<Contents> {
    const files: Contents['files'] = [];
    for (const name of (await readdir(staging.dir)).sort()) {
      if (name === CONTENTS_FILE || name.includes('.tmp-')) continue;
      const data = await readFile(path.join(staging.dir, name));
      files.push({ name, bytes: data.byteLength, sha256: sha256Hex(data) });
    }
    const contents: Contents = ContentsSchema.parse({ v: 1, ...o, files });
    await writeFileAtomic(path.join(staging.dir, CONTENTS_FILE), `${JSON.stringify(contents, null, 2)}\n`);
    return contents;
  }

  /** Renames a finished staging folder to versions/<version> (replacing an unverified one). */
  async commit(staging: Staging, version: string): Promise<void> {
    const target = path.join(this.dir, VERSIONS_DIR, version);
    const existing = await this.verified(version);
    if (existing !== undefined && this.#pointer?.active.version === version)
      throw new StoreError(this.dir, `version ${version} is active; not replacing it`);
    await rm(target, { recursive: true, force: true });
    await rename(staging.dir, target);
    await fsyncDir(path.join(this.dir, VERSIONS_DIR));
  }

  async discardStaging(staging: Staging): Promise<void> {
    await rm(staging.dir, { recursive: true, force: true });
  }

  // Downloads ---------------------------------------------------------------------------------

  #partial(sha256: string): string {
    return path.join(this.dir, PARTIAL_DIR, Sha256.parse(sha256));
  }

  /**
   * The chunks of `release` already on disk, each re-checked against its signed sha256 (a chunk
   * file that no longer matches is deleted and fetched again). Records the release beside them.
   */
  async heldChunks(release: Release): Promise<Set<number>> {
    const dir = this.#partial(release.artifact.sha256);
    await ensureDir(dir);
    await writeFileAtomic(path.join(dir, RELEASE_FILE), JSON.stringify(release));
    const held = new Set<number>();
    for (const name of await entries(dir)) {
      const m = /^(\d+)\.chunk$/.exec(name);
      if (m === null) {
        if (name.includes('.tmp-')) await rm(path.join(dir, name), { force: true });
        continue;
      }
      const index = Number(m[1]);
      const data = await readFile(path.join(dir, name));
      if (index < release.artifact.chunks.length && sha256Hex(data) === release.artifact.chunks[index])
        held.add(index);
      else await rm(path.join(dir, name), { force: true });
    }
    return held;
  }

  /** Stores one chunk the caller has checked against the release. */
  async writeChunk(sha256: string, index: number, data: Uint8Array): Promise<void> {
    await writeFileAtomic(path.join(this.#partial(sha256), `${index}.chunk`), data);
  }

  /** The artifact from its chunks, in order. */
  async assemble(release: Release): Promise<Uint8Array> {
    const dir = this.#partial(release.artifact.sha256);
    const out = new Uint8Array(release.artifact.bytes);
    let at = 0;
    for (let i = 0; i < release.artifact.chunks.length; i++) {
      const data = await readFile(path.join(dir, `${i}.chunk`));
      if (at + data.byteLength > out.length)
        throw new StoreError(this.dir, `chunk ${i} of ${release.version} overruns the artifact`);
      out.set(data, at);
      at += data.byteLength;
    }
    return out.subarray(0, at);
  }

  async discardDownload(sha256: string): Promise<void> {
    await rm(this.#partial(sha256), { recursive: true, force: true });
  }

  /** Removes downloads other than `keep` and versions other than the active and previous ones. */
  async prune(keep?: string): Promise<void> {
    for (const sha of await entries(path.join(this.dir, PARTIAL_DIR)))
      if (sha !== keep) await rm(path.join(this.dir, PARTIAL_DIR, sha), { recursive: true, force: true });
    const p = this.#pointer;
    for (const version of await entries(path.join(this.dir, VERSIONS_DIR)))
      if (version !== p?.active.version && version !== p?.previous?.version)
        await rm(path.join(this.dir, VERSIONS_DIR, version), { recursive: true, force: true });
  }

  // Records -----------------------------------------------------------------------------------

  async #rejected(): Promise<z.infer<typeof RejectedSchema>> {
    try {
      return (await readJson(path.join(this.dir, REJECTED_FILE), RejectedSchema)) ?? { v: 1, releases: {} };
    } catch (error) {
      this.#log(
        `model store: ${REJECTED_FILE} is unreadable, starting it again: ${(error as Error).message}`,
      );
      return { v: 1, releases: {} };
    }
  }

  async recordRejection(
    sha256: string,
    version: string,
    kind: OtaReasonKind,
    message: string,
  ): Promise<void> {
    const file = await this.#rejected();
    file.releases[sha256] = { version, kind, message, at: this.#now() };
    await writeFileAtomic(path.join(this.dir, REJECTED_FILE), `${JSON.stringify(file, null, 2)}\n`);
  }

  async rejection(sha256: string): Promise<RejectedRelease | undefined> {
    return (await this.#rejected()).releases[sha256];
  }

  async writeState(status: OtaStatus): Promise<void> {
    await writeFileAtomic(
      path.join(this.dir, STATE_FILE),
      `${JSON.stringify(OtaStatusSchema.parse(status))}\n`,
    );
  }

  async readState(): Promise<OtaStatus | undefined> {
    try {
      return await readJson(path.join(this.dir, STATE_FILE), OtaStatusSchema);
    } catch (error) {
      this.#log(`model store: ${STATE_FILE} is unreadable: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** The steering node's newest health report, or undefined (none, or not valid). */
  async readHealth(): Promise<SteeringHealth | undefined> {
    try {
      return await readJson(path.join(this.dir, HEALTH_FILE), SteeringHealthSchema);
    } catch (error) {
      this.#log(`model store: ${HEALTH_FILE} is not a health report: ${(error as Error).message}`);
      return undefined;
    }
  }
}
