// Training data straight from the simulator: the expert drives each world with random
// perturbations (so the data shows recoveries, not only perfect driving), every few frames are
// preprocessed exactly as the manifest says, and the expert's steering at that pose is the
// label. Held in memory as model inputs; mirrored copies (flipped image, negated steering)
// double it for free. Recording to MCAP is for robots and inspection; this is for training.
import { createPreprocessor } from '../../models/src/preprocess/index.ts';
import type { InputSpec } from '../../models/src/input-spec.ts';
import { frameValues, type TrainingDataset } from '../../models/src/train/dataset.ts';
import { DEFAULT_RANDOMISATION } from '../render/effects.ts';
import { Simulator } from '../simulator.ts';
import { backOnCentreline } from './recover.ts';
import { mulberry32, Rng } from '../../common/index.ts';
import type { World } from '../world/schema.ts';
import { appearanceVariant } from '../world/variants.ts';

export interface SimDataOptions {
  readonly worlds: readonly World[];
  readonly samplesPerWorld: number;
  readonly seed: number;
  readonly inputSpec: InputSpec;
  /** Keep one frame in this many (consecutive frames are nearly identical). */
  readonly every?: number;
  /** Largest added steering perturbation, in label units. */
  readonly perturbation?: number;
  /**
   * Re-dress the world every `episodeSamples` samples with a random look (sim/world/variants.ts);
   * the first episode of each world keeps its own look. Off: each world keeps its look throughout.
   */
  readonly randomiseAppearance?: { readonly episodeSamples: number };
  readonly onProgress?: (done: number, total: number) => void;
}

export class SimDataset implements TrainingDataset {
  readonly size: number;
  readonly inputSpec: InputSpec;
  readonly #frames: Float32Array;
  readonly #labels: Float32Array;
  readonly #n: number;

  private constructor(frames: Float32Array, labels: Float32Array, inputSpec: InputSpec) {
    this.#frames = frames;
    this.#labels = labels;
    this.#n = labels.length;
    this.size = labels.length * 2;
    this.inputSpec = inputSpec;
  }

  static generate(o: SimDataOptions): SimDataset {
    const total = o.worlds.length * o.samplesPerWorld;
    const values = frameValues(o.inputSpec);
    const frames = new Float32Array(total * values);
    const labels = new Float32Array(total);
    const pre = createPreprocessor(o.inputSpec);
    const every = o.every ?? 3;
    const maxPerturb = o.perturbation ?? 0.5;
    let k = 0;
    const episode = o.randomiseAppearance?.episodeSamples ?? Number.POSITIVE_INFINITY;
    if (!(episode >= 1)) throw new RangeError(`episodeSamples must be at least 1, got ${episode}`);
    o.worlds.forEach((world, w) => {
      const looks = new Rng(o.seed * 8_191 + w);
      const rand = mulberry32(o.seed * 31 + w);
      let sim = Simulator.create({ world, seed: o.seed + w, randomisation: DEFAULT_RANDOMISATION });
      const rate = sim.vehicle.maxAngularRate;
      let perturb = 0;
      let perturbLeft = 0;
      let frame = 0;
      let taken = 0;
      while (taken < o.samplesPerWorld) {
        if (taken > 0 && taken % episode === 0 && frame % every === 0) {
          // A new look where the last episode left the robot, so driving continues smoothly.
          const { x, y, yaw } = sim.state;
          const variant = appearanceVariant(world, looks);
          sim = Simulator.create({
            world: variant,
            seed: o.seed + w + 1_000 * (taken / episode),
            randomisation: DEFAULT_RANDOMISATION,
          });
          sim.reset({ x, y, yaw });
        }
        const expert = sim.expert();
        if (frame % every === 0) {
          const img = sim.render();
          pre.fromRaw(
            { height: 480, width: 640, encoding: 'rgb8', is_bigendian: 0, step: 1920, data: img },
            frames.subarray(k * values, (k + 1) * values),
          );
          labels[k] = expert.steering;
          k += 1;
          taken += 1;
          o.onProgress?.(k, total);
        }
        if (perturbLeft <= 0 && rand() < 0.04) {
          perturb = (rand() * 2 - 1) * maxPerturb;
          perturbLeft = 5 + Math.floor(rand() * 25);
        }
        const steer = Math.max(-1, Math.min(1, expert.steering + (perturbLeft-- > 0 ? perturb : 0)));
        const res = sim.step(
          {
            linear: { x: expert.twist.linear.x * (0.6 + 0.4 * rand()), y: 0, z: 0 },
            angular: { x: 0, y: 0, z: steer * rate },
          },
          1 / 30,
        );
        if (res.collided || Math.abs(res.cte) > world.track.width / 2) {
          backOnCentreline(sim, (rand() - 0.5) * 0.4);
          perturbLeft = 0;
        }
        frame += 1;
      }
    });
    return new SimDataset(frames, labels, o.inputSpec);
  }

  async read(indices: readonly number[], x: Float32Array, y: Float32Array): Promise<void> {
    const { height: H, width: W } = this.inputSpec;
    const values = H * W;
    indices.forEach((idx, i) => {
      const src = idx % this.#n;
      const frame = this.#frames.subarray(src * values, (src + 1) * values);
      const out = x.subarray(i * values, (i + 1) * values);
      if (idx < this.#n) {
        out.set(frame);
        y[i] = this.#labels[src]!;
      } else {
        // Mirror image: left and right swap, and so does the steering.
        for (let r = 0; r < H; r++) {
          const row = r * W;
          for (let c = 0; c < W; c++) out[row + c] = frame[row + W - 1 - c]!;
        }
        y[i] = -this.#labels[src]!;
      }
    });
  }
}
