import type { InputSpec } from '../input-spec.ts';
import { InputSpecSchema } from '../input-spec.ts';
import type { GreyMap } from './colour.ts';
import { greyMap } from './colour.ts';
import { decodeCompressed } from './compressed.ts';
import type { CompressedImageData, PixelLayout, RawImage } from './frame.ts';
import { checkRawImage } from './frame.ts';
import { resampleGeneric } from './bilinear.ts';
import { pairMean } from './pair-mean.ts';
import type { CropGeometry, ResamplePlan } from './plan.ts';
import { buildPlan } from './plan.ts';

/** Turns camera frames into the model input its InputSpec describes; reusable across frames. */
export interface Preprocessor {
  readonly spec: InputSpec;
  /** Length of every output: spec.width * spec.height (one grey channel, NCHW, batch 1). */
  readonly outputLength: number;
  /**
   * Writes the model input into `out` and returns it; in a hot loop pass the same `out` every
   * frame and nothing is allocated. Without `out` a new array is returned.
   * @throws FrameError for a frame that must be skipped.
   */
  fromRaw(img: RawImage, out?: Float32Array): Float32Array;
  /**
   * Decodes a JPEG or PNG frame and preprocesses it exactly as `fromRaw` would the decoded RGB.
   * @throws FrameError (rejected promise) for a frame that must be skipped.
   */
  fromCompressed(msg: CompressedImageData, out?: Float32Array): Promise<Float32Array>;
}

type GreyMaps = Readonly<Record<PixelLayout, GreyMap>>;

function greyMaps(bigEndian: boolean, weights: readonly [number, number, number]): GreyMaps {
  const m = (layout: PixelLayout): GreyMap => greyMap(layout, bigEndian, weights);
  return {
    rgb8: m('rgb8'),
    bgr8: m('bgr8'),
    rgba8: m('rgba8'),
    bgra8: m('bgra8'),
    mono8: m('mono8'),
    mono16: m('mono16'),
    uyvy: m('uyvy'),
    yuyv: m('yuyv'),
  };
}

/** Cameras rarely change size; a few entries cover a switch between streams without growing forever. */
const MAX_PLANS = 4;

class FramePreprocessor implements Preprocessor {
  readonly spec: InputSpec;
  readonly outputLength: number;
  readonly #geometry: CropGeometry;
  readonly #scale: number;
  readonly #offset: number;
  readonly #littleEndian: GreyMaps;
  readonly #bigEndian: GreyMaps;
  readonly #plans = new Map<string, ResamplePlan>();
  #lastPlan: ResamplePlan | null = null;

  constructor(spec: InputSpec) {
    this.spec = spec;
    this.outputLength = spec.width * spec.height;
    this.#geometry = {
      resizeWidth: spec.resize.width,
      resizeHeight: spec.resize.height,
      cropWidth: spec.crop.width,
      cropHeight: spec.crop.height,
    };
    this.#scale = spec.scaling.scale;
    this.#offset = spec.scaling.offset;
    const weights = spec.colour.weights;
    this.#littleEndian = greyMaps(false, weights);
    this.#bigEndian = greyMaps(true, weights);
  }

  fromRaw(img: RawImage, out?: Float32Array): Float32Array {
    const target = this.#output(out);
    const layout = checkRawImage(img);
    const map = (img.is_bigendian ? this.#bigEndian : this.#littleEndian)[layout];
    const plan = this.#plan(img.width, img.height);
    if (plan.pair !== null && map.kind === 'linear') {
      pairMean(img.data, img.step, map, plan.pair, plan, this.#scale, this.#offset, target);
    } else {
      resampleGeneric(img.data, img.step, map, plan, this.#scale, this.#offset, target);
    }
    return target;
  }

  async fromCompressed(msg: CompressedImageData, out?: Float32Array): Promise<Float32Array> {
    const target = this.#output(out);
    const raw = await decodeCompressed(msg);
    return this.fromRaw(raw, target);
  }

  #output(out: Float32Array | undefined): Float32Array {
    if (out === undefined) return new Float32Array(this.outputLength);
    if (out.length !== this.outputLength) {
      throw new RangeError(
        `output buffer has ${out.length} elements, expected ${this.outputLength} ` +
          `(${this.spec.width}x${this.spec.height})`,
      );
    }
    return out;
  }

  #plan(width: number, height: number): ResamplePlan {
    const last = this.#lastPlan;
    if (last !== null && last.srcWidth === width && last.srcHeight === height) return last;
    const key = `${width}x${height}`;
    let plan = this.#plans.get(key);
    if (plan === undefined) {
      if (this.#plans.size >= MAX_PLANS) this.#plans.clear();
      plan = buildPlan(this.#geometry, width, height);
      this.#plans.set(key, plan);
    }
    this.#lastPlan = plan;
    return plan;
  }
}

/**
 * Builds a preprocessor for one model's InputSpec. The spec is validated here because it comes
 * from a manifest file; an invalid one is a configuration mistake and throws a ZodError.
 */
export function createPreprocessor(spec: InputSpec): Preprocessor {
  return new FramePreprocessor(InputSpecSchema.parse(spec));
}
