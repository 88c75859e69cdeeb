// Keeps the steering node on the model the store's pointer names (models/src/model-store.ts),
// which the OTA agent moves from its own process: it polls the pointer, loads and warms a new
// model beside the one driving, then swaps between two frames; the old engine is released once
// its last inference is done. It also writes the node's health file for the agent's probation.
// Polling, not fs.watch: a rename over the pointer is seen the same way on every file system.
import path from 'node:path';
import { writeFileAtomic } from '../../common/index.ts';
import { readActivePointer, storedManifestPath, type StoredModelRef } from '../../models/src/model-store.ts';
import { HEALTH_FILE, type SteeringHealth } from './health.ts';
import type { SteeringModel, SteeringNode } from './steering-node.ts';

export type FollowerEvent =
  | { readonly kind: 'loading'; readonly version: string }
  | {
      readonly kind: 'swapped';
      readonly from: string;
      readonly to: string;
      /** Wall ms from seeing the pointer move to the new model serving (load + warm-up). */
      readonly warmMs: number;
    }
  | { readonly kind: 'failed'; readonly version: string; readonly reason: string };

export interface WallTimer {
  now(): number;
  every(ms: number, fn: () => void): () => void;
}

export const systemWallTimer: WallTimer = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const id = setInterval(fn, ms);
    return () => clearInterval(id);
  },
};

export interface ModelFollowerOptions {
  readonly store: string;
  readonly node: SteeringNode;
  /** The model running at start, as the pointer names it (undefined: not from the store). */
  readonly current: StoredModelRef | undefined;
  /** Loads, checks and warms a model package. */
  readonly load: (manifestPath: string) => Promise<SteeringModel>;
  readonly pollMs: number;
  readonly nodeName: string;
  readonly timer?: WallTimer;
  readonly log?: (line: string) => void;
  readonly onEvent?: (event: FollowerEvent) => void;
}

const sameRef = (a: StoredModelRef | undefined, b: StoredModelRef): boolean =>
  a !== undefined && a.version === b.version && a.onnxSha256 === b.onnxSha256;

export class ModelFollower {
  readonly #o: ModelFollowerOptions;
  readonly #timer: WallTimer;
  readonly #log: (line: string) => void;
  #current: StoredModelRef | undefined;
  /** A model that failed to load: not retried until the pointer names another. */
  #failed: StoredModelRef | undefined;
  #since: number;
  #busy = false;
  #stopped = false;
  readonly #cancel: () => void;
  #running: Promise<void> = Promise.resolve();

  private constructor(o: ModelFollowerOptions) {
    this.#o = o;
    this.#timer = o.timer ?? systemWallTimer;
    this.#log = o.log ?? ((line) => console.error(`[${o.nodeName}] ${line}`));
    this.#current = o.current;
    this.#since = this.#timer.now();
    this.#cancel = this.#timer.every(o.pollMs, () => {
      if (this.#busy || this.#stopped) return;
      this.#busy = true;
      this.#running = this.#poll().finally(() => (this.#busy = false));
    });
  }

  static start(o: ModelFollowerOptions): ModelFollower {
    return new ModelFollower(o);
  }

  async #poll(): Promise<void> {
    try {
      await this.#follow();
    } catch (error) {
      this.#log(`model store ${this.#o.store}: ${(error as Error).message}`);
    }
    if (!this.#stopped) await this.#writeHealth();
  }

  async #follow(): Promise<void> {
    const pointer = await readActivePointer(this.#o.store);
    if (pointer === undefined) return;
    const next = pointer.active;
    if (sameRef(this.#current, next) || sameRef(this.#failed, next)) return;
    const seen = this.#timer.now();
    this.#o.onEvent?.({ kind: 'loading', version: next.version });
    let model: SteeringModel;
    try {
      // The old model keeps serving every frame while this loads and warms up.
      model = await this.#o.load(storedManifestPath(this.#o.store, next));
    } catch (error) {
      this.#failed = next;
      const reason = (error as Error).message;
      this.#log(
        `model ${next.version} from the store failed to load, keeping ${this.#o.node.modelVersion}: ${reason}`,
      );
      this.#o.onEvent?.({ kind: 'failed', version: next.version, reason });
      return;
    }
    if (this.#stopped) {
      await model.engine.dispose();
      return;
    }
    const from = this.#o.node.modelVersion;
    const old = await this.#o.node.swapModel(model);
    this.#current = next;
    this.#failed = undefined;
    this.#since = this.#timer.now();
    await old.dispose();
    this.#o.onEvent?.({ kind: 'swapped', from, to: model.modelVersion, warmMs: this.#since - seen });
  }

  async #writeHealth(): Promise<void> {
    const h = this.#o.node.modelHealth();
    const report: SteeringHealth = {
      v: 1,
      node: this.#o.nodeName,
      model: h.model,
      since: this.#since,
      at: this.#timer.now(),
      processed: h.processed,
      inferenceFailures: h.inferenceFailures,
      late: h.late,
      watchdogStops: h.watchdogStops,
      inferenceP99Ms: h.inferenceP99Ms ?? null,
      jitter: h.jitter ?? null,
    };
    try {
      await writeFileAtomic(path.join(this.#o.store, HEALTH_FILE), `${JSON.stringify(report)}\n`);
    } catch (error) {
      this.#log(`cannot write the health file: ${(error as Error).message}`);
    }
  }

  /** Stops polling; resolves once a load or swap under way is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel();
    await this.#running;
  }
}
