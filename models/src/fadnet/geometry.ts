// FADNet's tensor sizes as functions of its input size (docs/fadnet.md, "Layers"). The network
// is convolutional up to two places that fix sizes: `fc` is Linear(7 -> 7) over x4's width, and
// the fc output is multiplied element-wise with the pair-mean of the support branches, so the
// support maps (strides 7, 4 and 2 from x1, x2 and x3) must flatten to exactly as many values as
// x4. Some inputs besides 200 x 200 satisfy both (widths 197-200; heights such as 104 or 56);
// others (160 x 160 gives x4 5 wide) cannot run this network, and are refused here, by name.
import { InputSizeError } from '../errors.ts';

/** Height and width in pixels. */
export interface FrameSize {
  readonly height: number;
  readonly width: number;
}

export interface FadnetGeometry {
  readonly input: FrameSize;
  /** x1, after conv1 (stride 2) and the 3x3 stride-2 max pool. */
  readonly x1: FrameSize;
  readonly x2: FrameSize;
  readonly x3: FrameSize;
  /** x4, the map `fc` acts on (128 channels, width 7). */
  readonly x4: FrameSize;
  /** Values per image of the fc output and of the support pair-mean: 128 * H4 * 7. */
  readonly features: number;
}

/** fc's width: Linear(7 -> 7) over x4's last axis. */
export const FC_WIDTH = 7;
const X4_CHANNELS = 128;
const SUPPORT_CHANNELS = 256;

/** Output size of a SAME convolution (TensorFlow's rule, as docs/fadnet.md uses). */
function same(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

function sizeOf(f: (d: number) => number, s: FrameSize): FrameSize {
  return { height: f(s.height), width: f(s.width) };
}

const text = (s: FrameSize): string => `${s.height}x${s.width}`;

/** Every stage's size for an input of `input` pixels; throws InputSizeError when FADNet cannot run on it. */
export function fadnetGeometry(input: FrameSize): FadnetGeometry {
  const { height, width } = input;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new InputSizeError(`input size ${height}x${width} is not a positive whole number of pixels`, input);
  }
  const c1 = sizeOf((d) => same(d, 2), input);
  const x1 = sizeOf((d) => Math.floor((d - 3) / 2) + 1, c1);
  if (x1.height < 1 || x1.width < 1) {
    throw new InputSizeError(`input ${text(input)} is too small for conv1 and its 3x3 max pool`, input);
  }
  const x2 = sizeOf((d) => same(d, 2), x1);
  const x3 = sizeOf((d) => same(d, 2), x2);
  const x4 = sizeOf((d) => same(d, 2), x3);
  if (x4.width !== FC_WIDTH) {
    throw new InputSizeError(
      `input ${text(input)} gives x4 ${text(x4)}, but fc is Linear(${FC_WIDTH} -> ${FC_WIDTH}) over x4's width (widths 197-200 give ${FC_WIDTH})`,
      input,
    );
  }
  const features = X4_CHANNELS * x4.height * x4.width;
  const supports: [string, FrameSize][] = [
    ['conv2_support', sizeOf((d) => same(d, 7), x1)],
    ['conv3_support', sizeOf((d) => same(d, 4), x2)],
    ['conv4_support', sizeOf((d) => same(d, 2), x3)],
  ];
  for (const [name, s] of supports) {
    const pairs = (SUPPORT_CHANNELS * s.height * s.width) / 2;
    if (pairs !== features) {
      throw new InputSizeError(
        `input ${text(input)} gives ${name} ${text(s)} (${pairs} pair means) but x4 ${text(x4)} (${features} features); the two must match`,
        input,
      );
    }
  }
  return { input: { height, width }, x1, x2, x3, x4, features };
}
