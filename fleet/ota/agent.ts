// The update agent on a robot: takes the fleet's release, fetches and checks it, stages and
// validates the model, moves the store's pointer (the steering node follows it), watches the
// probation and rolls back when the new model is unhealthy. The link to the broker, the store
// and the clock are injected; every decision is in release.ts, probation.ts and the store's
// recovery rules, so the order below is the whole protocol.
import path from 'node:path';
import type { EngineConfigInput } from '../../models/src/engine/engine.ts';
import { ManifestSchema } from '../../models/src/manifest.ts';
import { sha256Hex, type TrustedKeys } from '../exchange/index.ts';
import { decodeBundle, GOLDEN_FILE } from './bundle.ts';
import {
  ArtifactHashError,
  BundleFormatError,
  ChunkHashError,
  ReleaseRejectedError,
  SignatureError,
  UnknownSignerError,
  type RejectKind,
} from './errors.ts';
import { judgeProbation, type ProbationCriteria, type RollbackKind } from './probation.ts';
import { checkRelease, upgradeVerdict, type Release } from './release.ts';
import type { OtaReasonKind, OtaState, OtaStatus } from './status.ts';
import type { Contents, ModelStore } from './store.ts';
import { validateModel, type ValidationResult } from './validate.ts';

/** The broker side of the agent (mqtt-link.ts over MQTT; tests may give their own). */
export interface OtaLink {
  /** Each message on the fleet's release topic, the retained one first. */
  onRelease(listener: (payload: Uint8Array) => void): void;
  /** Subscribes to an artifact's chunks (retained: every chunk arrives); resolves to an unsubscribe. */
  subscribeArtifact(
    sha256: string,
    onChunk: (index: number, data: Uint8Array) => void,
  ): Promise<() => Promise<void>>;
  publishStatus(status: OtaStatus): Promise<void>;
}

/** Where the fault drill stops the agent, to kill it there with SIGKILL from outside. */
export type PausePoint =
  | { readonly stage: 'download'; readonly afterChunks: number }
  | { readonly stage: 'staging' }
  | { readonly stage: 'swap' }
  | { readonly stage: 'probation' };

export interface OtaAgentOptions {
  readonly fleet: string;
  readonly robot: string;
  readonly store: ModelStore;
  readonly trusted: TrustedKeys;
  readonly link: OtaLink;
  /** The robot's execution providers and threads, as the steering node uses them. */
  readonly engine: EngineConfigInput;
  /** Pause after writing each chunk (0: none), to leave the robot's disk and CPU to driving. */
  readonly chunkIntervalMs?: number;
  /** How often the steering node's health file is read in probation. */
  readonly probationPollMs?: number;
  /** How long the steering node may take to load a new model before probation fails. */
  readonly loadGraceMs?: number;
  readonly pauseAt?: PausePoint;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
  readonly onStatus?: (status: OtaStatus) => void;
}

class Superseded extends Error {
  override readonly name = 'Superseded';
}

/** Rejections recorded by artifact: checked releases whose contents are bad, not forgeries. */
const RECORDED: ReadonlySet<RejectKind> = new Set([
  'artifact_hash',
  'bad_artifact',
  'load_failed',
  'golden_mismatch',
  'latency_budget',
]);

export class OtaAgent {
  readonly #o: OtaAgentOptions;
  readonly #store: ModelStore;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #log: (line: string) => void;
  #queue: Promise<void> = Promise.resolve();
  #latest: Uint8Array | undefined;
  #abort: AbortController | undefined;
  #last: OtaStatus;
  /** The last validation's figures, for the drill and logs. */
  lastValidation: ValidationResult | undefined;

  private constructor(o: OtaAgentOptions) {
    this.#o = o;
    this.#store = o.store;
    this.#now = o.now ?? Date.now;
    this.#sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#log = o.log ?? ((line) => console.error(line));
    this.#last = this.#statusOf('idle', {});
  }

  /** Starts: resumes a probation a restart interrupted, then follows the release topic. */
  static async start(o: OtaAgentOptions): Promise<OtaAgent> {
    const agent = new OtaAgent(o);
    const saved = await o.store.readState();
    const active = o.store.pointer?.active;
    if (
      saved?.state === 'probation' &&
      saved.probation !== null &&
      saved.probation.version === active?.version
    ) {
      const p = saved.probation;
      const release = saved.release;
      agent.#queue = agent.#queue.then(() =>
        agent.#probation(
          { version: p.version, sha256: release?.sha256 ?? '' },
          {
            model: '',
            since: p.since,
            seconds: p.seconds,
            latencyBudgetMs: p.latencyBudgetMs,
            maxJitter: p.maxJitter,
          },
          true,
        ),
      );
    } else {
      await agent.#publish(agent.#statusOf(active === undefined ? 'idle' : 'active', {}));
    }
    o.link.onRelease((payload) => agent.#onRelease(payload));
    return agent;
  }

  get status(): OtaStatus {
    return this.#last;
  }

  /** Resolves when every release received so far has been handled. */
  async idle(): Promise<void> {
    for (let q = this.#queue; ; q = this.#queue) {
      await q;
      if (q === this.#queue) return;
    }
  }

  #onRelease(payload: Uint8Array): void {
    this.#latest = payload;
    // A newer release replaces a download under way (its chunks stay on disk for later).
    this.#abort?.abort();
    this.#queue = this.#queue.then(() => this.#handleLatest());
  }

  async #handleLatest(): Promise<void> {
    const payload = this.#latest;
    if (payload === undefined) return;
    this.#latest = undefined;
    const abort = new AbortController();
    this.#abort = abort;
    let release: Release | undefined;
    try {
      release = checkRelease(payload, this.#o.fleet, this.#o.trusted);
      await this.#install(release, abort.signal);
    } catch (error) {
      if (error instanceof Superseded) return;
      if (error instanceof ReleaseRejectedError) {
        // A release refused before it was trusted is named by the version it claims, never recorded.
        const claimed =
          release ??
          (error instanceof UnknownSignerError || error instanceof SignatureError
            ? { version: error.version, sha256: '' }
            : undefined);
        await this.#reject(claimed, error.kind, error.message);
      } else {
        const message = error instanceof Error ? error.message : String(error);
        this.#log(`ota ${this.#o.robot}: release ${release?.version ?? '?'} failed: ${message}`);
        await this.#publish(
          this.#statusOf('rejected', { release, reason: { kind: 'load_failed', message } }),
        );
      }
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
  }

  async #install(release: Release, signal: AbortSignal): Promise<void> {
    const sha = release.artifact.sha256;
    const refused = await this.#store.rejection(sha);
    if (refused !== undefined) {
      await this.#publish(
        this.#statusOf('rejected', {
          release,
          reason: { kind: refused.kind as OtaReasonKind, message: `refused before: ${refused.message}` },
        }),
      );
      return;
    }
    const active = this.#store.pointer?.active;
    if (upgradeVerdict(release, active) === 'current') {
      await this.#publish(this.#statusOf('active', {}));
      return;
    }
    // Staged, validated and committed before a restart: only the pointer is left to move.
    let contents = await this.#store.verified(release.version);
    if (contents?.release?.artifact.sha256 !== sha) {
      const artifact = await this.#download(release, signal);
      contents = await this.#stage(release, artifact);
    }
    await this.#activate(release, contents);
  }

  async #download(release: Release, signal: AbortSignal): Promise<Uint8Array> {
    const { sha256: sha, chunks } = release.artifact;
    const held = await this.#store.heldChunks(release);
    const resumed = held.size;
    const progress = (): OtaStatus['progress'] => ({ chunks: held.size, of: chunks.length, resumed });
    let reason: OtaStatus['reason'] = null;
    await this.#publish(this.#statusOf('downloading', { release, progress: progress() }));
    if (resumed > 0)
      this.#log(
        `ota ${this.#o.robot}: resuming ${release.version} with ${resumed} of ${chunks.length} chunks held`,
      );
    if (held.size < chunks.length) {
      let unsubscribe: (() => Promise<void>) | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          if (signal.aborted) return reject(new Superseded());
          signal.addEventListener('abort', () => reject(new Superseded()), { once: true });
          let writing = Promise.resolve();
          const onChunk = (index: number, data: Uint8Array): void => {
            writing = writing
              .then(async () => {
                if (signal.aborted || held.has(index) || index >= chunks.length) return;
                const actual = sha256Hex(data);
                if (actual !== chunks[index]) {
                  // Refused, never written; a good copy may still come (a republish).
                  const e = new ChunkHashError(release.version, index, chunks.length, actual);
                  this.#log(`ota ${this.#o.robot}: ${e.message}`);
                  reason = { kind: e.kind, message: e.message };
                  await this.#publish(
                    this.#statusOf('downloading', { release, progress: progress(), reason }),
                  );
                  return;
                }
                await this.#store.writeChunk(sha, index, data);
                held.add(index);
                const pause = this.#o.pauseAt;
                if (pause?.stage === 'download' && held.size - resumed >= pause.afterChunks)
                  await this.#pause(`download after ${held.size} of ${chunks.length} chunks`);
                if (held.size === chunks.length) return resolve();
                if ((this.#o.chunkIntervalMs ?? 0) > 0) await this.#sleep(this.#o.chunkIntervalMs!);
                if (held.size % 8 === 0)
                  await this.#publish(
                    this.#statusOf('downloading', { release, progress: progress(), reason }),
                  );
              })
              .catch(reject);
          };
          this.#o.link.subscribeArtifact(sha, onChunk).then((u) => {
            unsubscribe = u;
            if (signal.aborted) void u();
          }, reject);
        });
      } finally {
        await unsubscribe?.();
      }
    }
    const artifact = await this.#store.assemble(release);
    const actual = sha256Hex(artifact);
    if (actual !== sha) {
      await this.#store.discardDownload(sha);
      throw new ArtifactHashError(release.version, sha, actual);
    }
    return artifact;
  }

  async #stage(release: Release, artifact: Uint8Array): Promise<Contents> {
    await this.#publish(this.#statusOf('staging', { release }));
    const files = decodeBundle(artifact, `release ${release.version}`);
    const manifestName = `${release.name}.manifest.json`;
    const manifestBytes = files.get(manifestName);
    const golden = files.get(GOLDEN_FILE);
    if (manifestBytes === undefined || golden === undefined)
      throw new BundleFormatError(
        `release ${release.version}: the artifact lacks ${manifestBytes === undefined ? manifestName : GOLDEN_FILE}`,
      );
    const manifest = ManifestSchema.safeParse(JSON.parse(new TextDecoder().decode(manifestBytes)));
    if (!manifest.success || manifest.data.name !== release.name || manifest.data.version !== release.version)
      throw new BundleFormatError(
        `release ${release.version}: the package inside is not ${release.name}@${release.version}`,
      );
    const staging = await this.#store.beginStaging(release.version);
    try {
      let first = true;
      for (const [name, data] of files) {
        await staging.write(name, data);
        if (first && this.#o.pauseAt?.stage === 'staging') await this.#pause(`staging after ${name}`);
        first = false;
      }
      const contents = await this.#store.finishStaging(staging, {
        name: release.name,
        version: release.version,
        manifest: manifestName,
        origin: 'release',
        release,
      });
      await this.#publish(this.#statusOf('validating', { release }));
      this.lastValidation = await validateModel(path.join(staging.dir, manifestName), release, golden, {
        engine: this.#o.engine,
      });
      const v = this.lastValidation;
      this.#log(
        `ota ${this.#o.robot}: ${release.version} valid on ${v.description}: golden max error ${v.maxError.toExponential(2)}, p99 ${v.p99Ms.toFixed(3)} ms (budget ${release.latencyBudgetMs} ms), loaded in ${v.loadMs.toFixed(0)} ms`,
      );
      await this.#store.commit(staging, release.version);
      await this.#store.discardDownload(release.artifact.sha256);
      return contents;
    } catch (error) {
      await this.#store.discardStaging(staging);
      if (error instanceof ReleaseRejectedError) await this.#store.discardDownload(release.artifact.sha256);
      throw error;
    }
  }

  async #activate(release: Release, contents: Contents): Promise<void> {
    if (this.#o.pauseAt?.stage === 'swap') await this.#pause(`swap, ${release.version} committed`);
    await this.#publish(this.#statusOf('activating', { release }));
    await this.#store.activate(this.#store.refOf(contents), `update to ${release.version}`);
    this.#log(
      `ota ${this.#o.robot}: ${release.version} active, ${this.#store.pointer?.previous?.version ?? 'none'} kept for rollback`,
    );
    if (release.probation.seconds === 0) {
      await this.#store.prune();
      await this.#publish(this.#statusOf('active', { release }));
      return;
    }
    const criteria = {
      model: `${release.name}@${release.version}`,
      since: this.#now(),
      seconds: release.probation.seconds,
      latencyBudgetMs: release.latencyBudgetMs,
      maxJitter: release.probation.maxJitter,
    };
    await this.#probation({ version: release.version, sha256: release.artifact.sha256 }, criteria, false);
  }

  async #probation(
    release: { version: string; sha256: string },
    c: Omit<ProbationCriteria, 'loadGraceMs'>,
    resumed: boolean,
  ): Promise<void> {
    const active = this.#store.pointer?.active;
    const contents = active === undefined ? undefined : await this.#store.verified(active.version);
    const model = c.model !== '' ? c.model : `${contents?.name ?? '?'}@${release.version}`;
    const criteria: ProbationCriteria = { ...c, model, loadGraceMs: this.#o.loadGraceMs ?? 30_000 };
    const probation = {
      version: release.version,
      since: c.since,
      seconds: c.seconds,
      maxJitter: c.maxJitter,
      latencyBudgetMs: c.latencyBudgetMs,
    };
    await this.#publish(this.#statusOf('probation', { release, probation }));
    if (resumed) this.#log(`ota ${this.#o.robot}: resuming the probation of ${release.version}`);
    if (this.#o.pauseAt?.stage === 'probation') await this.#pause(`probation of ${release.version}`);
    for (;;) {
      const pointer = await this.#store.reload();
      if (pointer?.active.version !== release.version) {
        this.#log(
          `ota ${this.#o.robot}: probation of ${release.version} ended: the pointer moved to ${pointer?.active.version ?? 'nothing'}`,
        );
        return;
      }
      const verdict = judgeProbation(await this.#store.readHealth(), criteria, this.#now());
      if (verdict.verdict === 'pass') {
        this.#log(`ota ${this.#o.robot}: probation passed: ${verdict.detail}`);
        await this.#store.prune();
        await this.#publish(this.#statusOf('active', { release }));
        return;
      }
      if (verdict.verdict === 'fail') {
        await this.#rollback(release, verdict.kind, verdict.reason);
        return;
      }
      await this.#sleep(this.#o.probationPollMs ?? 250);
    }
  }

  async #rollback(
    release: { version: string; sha256: string },
    kind: RollbackKind,
    reason: string,
  ): Promise<void> {
    const p = await this.#store.rollback(reason);
    if (release.sha256 !== '')
      await this.#store.recordRejection(release.sha256, release.version, kind, reason);
    this.#log(`ota ${this.#o.robot}: rolled back to ${p.active.version}: ${reason}`);
    await this.#publish(this.#statusOf('rolled_back', { release, reason: { kind, message: reason } }));
  }

  async #reject(
    release: Release | { version: string; sha256: string } | undefined,
    kind: RejectKind,
    message: string,
  ): Promise<void> {
    this.#log(
      `ota ${this.#o.robot}: rejected${release === undefined ? '' : ` ${release.version}`}: ${message}`,
    );
    if (release !== undefined && 'artifact' in release && RECORDED.has(kind))
      await this.#store.recordRejection(release.artifact.sha256, release.version, kind, message);
    await this.#publish(this.#statusOf('rejected', { release, reason: { kind, message } }));
  }

  async #pause(where: string): Promise<never> {
    this.#log(`ota ${this.#o.robot}: paused at ${where} (fault drill)`);
    return new Promise<never>(() => {});
  }

  #statusOf(
    state: OtaState,
    o: {
      release?: Release | { version: string; sha256: string } | undefined;
      progress?: OtaStatus['progress'];
      reason?: OtaStatus['reason'];
      probation?: OtaStatus['probation'];
    },
  ): OtaStatus {
    const p = this.#store.pointer;
    const r = o.release;
    return {
      v: 1,
      fleet: this.#o.fleet,
      robot: this.#o.robot,
      state,
      active: p?.active.version ?? null,
      previous: p?.previous?.version ?? null,
      release:
        r === undefined
          ? null
          : { version: r.version, sha256: 'artifact' in r ? r.artifact.sha256 : r.sha256 },
      progress: o.progress ?? null,
      reason: o.reason ?? null,
      probation: o.probation ?? null,
      at: Math.floor(this.#now()),
    };
  }

  async #publish(status: OtaStatus): Promise<void> {
    this.#last = status;
    this.#o.onStatus?.(status);
    await this.#store.writeState(status);
    try {
      await this.#o.link.publishStatus(status);
    } catch (error) {
      this.#log(`ota ${this.#o.robot}: status not published: ${(error as Error).message}`);
    }
  }
}
