// The canonical FADNet weight set: PyTorch state_dict names and layouts (docs/fadnet.md), so
// files we write load into the reference and theirs load here with no renaming.

export type ParamKind = 'trainable' | 'running_mean' | 'running_var';

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: ParamKind;
}

function conv(name: string, out: number, inp: number, k: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [out, inp, k, k], kind: 'trainable' },
    { name: `${name}.bias`, shape: [out], kind: 'trainable' },
  ];
}

function batchNorm(name: string, c: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [c], kind: 'trainable' },
    { name: `${name}.bias`, shape: [c], kind: 'trainable' },
    { name: `${name}.running_mean`, shape: [c], kind: 'running_mean' },
    { name: `${name}.running_var`, shape: [c], kind: 'running_var' },
  ];
}

function resBlock(name: string, inp: number, out: number): ParamSpec[] {
  return [
    ...batchNorm(`${name}.batch_norm`, inp),
    ...conv(`${name}.conv2d`, out, inp, 3),
    ...batchNorm(`${name}.batch_norm_1`, out),
    ...conv(`${name}.conv2d_2`, out, out, 3),
  ];
}

/** Every tensor of a FADNet weight set, in the reference's state_dict order. */
export const FADNET_PARAMS: readonly ParamSpec[] = [
  ...conv('conv1', 32, 1, 5),
  ...resBlock('res_block1', 32, 32),
  ...conv('conv2', 32, 32, 1),
  ...conv('conv2_support', 256, 32, 1),
  ...resBlock('res_block2', 32, 64),
  ...conv('conv3', 64, 32, 1),
  ...conv('conv3_support', 256, 32, 1),
  ...resBlock('res_block3', 64, 128),
  ...conv('conv4', 128, 64, 1),
  ...conv('conv4_support', 256, 64, 1),
  { name: 'fc.weight', shape: [7, 7], kind: 'trainable' },
  { name: 'fc.bias', shape: [7], kind: 'trainable' },
  { name: 'fc_accumulation.weight', shape: [1, 3], kind: 'trainable' },
  { name: 'fc_accumulation.bias', shape: [1], kind: 'trainable' },
];

export const FADNET_PARAM_BY_NAME: ReadonlyMap<string, ParamSpec> = new Map(
  FADNET_PARAMS.map((p) => [p.name, p]),
);

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export const FADNET_TRAINABLE_COUNT = FADNET_PARAMS.filter((p) => p.kind === 'trainable').reduce(
  (n, p) => n + sizeOf(p.shape),
  0,
);
