// Adapters between the silo and the rest of the project: the models' Trainer as a LocalTrainer,
// and a checkpoint file. The checkpoint is the trainer's own safetensors checkpoint with the
// silo's round, id and fleet added to its metadata, written by write-then-rename, so one file
// holds everything a silo needs after kill -9 and `fadnet train --resume` could still read it.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { writeFileAtomic } from '../../common/index.ts';
import type { Trainer } from '../../models/src/train/trainer.ts';
import { decodeSafetensors, encodeSafetensors } from '../../models/src/weights/safetensors.ts';
import type { WeightSet } from '../../models/src/weights/weight-set.ts';
import { FleetPlanError, SiloCheckpointError, SiloConfigError } from './errors.ts';
import { parsePlan } from './plan.ts';
import type { FleetPlan } from './plan.ts';
import type { CheckpointStore, LocalTrainer, SiloCheckpoint } from './silo.ts';

/** The models' Trainer (Adam, its own data) as the silo's local update. */
export class TrainerLocalUpdate implements LocalTrainer {
  readonly #trainer: Trainer;
  #lastLoss: number | undefined;

  constructor(trainer: Trainer) {
    this.#trainer = trainer;
  }

  async train(steps: number): Promise<void> {
    for (let i = 0; i < steps; i++) this.#lastLoss = (await this.#trainer.trainStep()).loss;
  }

  lastLoss(): number | undefined {
    return this.#lastLoss;
  }

  weights(): WeightSet {
    return this.#trainer.model.weights();
  }

  load(weights: WeightSet): void {
    this.#trainer.model.load(weights);
  }

  state(): Uint8Array {
    return this.#trainer.checkpointBytes();
  }

  restore(state: Uint8Array): void {
    this.#trainer.restore(state);
  }
}

const ROUND_KEY = 'silo.round';
const ID_KEY = 'silo.id';
const FLEET_KEY = 'silo.fleet';

export class FileCheckpointStore implements CheckpointStore {
  readonly file: string;
  readonly #silo: string;
  readonly #fleet: string;

  constructor(file: string, owner: { readonly silo: string; readonly fleet: string }) {
    this.file = file;
    this.#silo = owner.silo;
    this.#fleet = owner.fleet;
  }

  async load(): Promise<SiloCheckpoint | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(this.file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SiloCheckpointError(this.file, 'cannot be read', { cause: error });
    }
    let metadata: Readonly<Record<string, string>>;
    try {
      metadata = decodeSafetensors(bytes).metadata;
    } catch (error) {
      throw new SiloCheckpointError(this.file, 'is not a readable safetensors checkpoint', { cause: error });
    }
    const owner = `silo ${metadata[ID_KEY]} of fleet ${metadata[FLEET_KEY]}`;
    if (metadata[ID_KEY] !== this.#silo || metadata[FLEET_KEY] !== this.#fleet) {
      throw new SiloCheckpointError(
        this.file,
        `belongs to ${owner}, not to silo ${this.#silo} of fleet ${this.#fleet}`,
      );
    }
    const round = Number(metadata[ROUND_KEY]);
    if (!Number.isInteger(round) || round < 0) {
      throw new SiloCheckpointError(this.file, `round "${metadata[ROUND_KEY]}" is not a round number`);
    }
    return { round, trainer: bytes };
  }

  async save(checkpoint: SiloCheckpoint): Promise<void> {
    const decoded = decodeSafetensors(checkpoint.trainer);
    const bytes = encodeSafetensors(decoded.tensors, {
      metadata: {
        ...decoded.metadata,
        [ROUND_KEY]: String(checkpoint.round),
        [ID_KEY]: this.#silo,
        [FLEET_KEY]: this.#fleet,
      },
    });
    await writeFileAtomic(this.file, bytes);
  }
}

/** Reads and validates a plan file (fadnet-edge/fleet-plan@1). */
export async function readPlanFile(file: string): Promise<FleetPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FleetPlanError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FleetPlanError(file, `is not JSON: ${(error as Error).message}`, { cause: error });
  }
  return parsePlan(json, file);
}

/** The MCAP recordings in a folder, sorted, so a silo's data set is the same on every start. */
export async function mcapFilesIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new SiloConfigError(
      `data folder ${dir} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: error,
      },
    );
  }
  const files = names.filter((n) => n.endsWith('.mcap')).sort();
  if (files.length === 0) throw new SiloConfigError(`data folder ${dir} holds no .mcap recordings`);
  return files.map((n) => path.join(dir, n));
}
