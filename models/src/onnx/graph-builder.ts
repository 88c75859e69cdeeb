// A small builder for ONNX graphs: nodes, attributes and float/integer initializers, encoded
// with the protobufjs descriptor in proto.ts.
import { floatToHalf } from '../weights/half.ts';
import { AttributeType, DataType, ModelProto } from './proto.ts';

/** The element type the graph computes in: float initializers are written in it. */
export type FloatType = 'float32' | 'float16';

/** Integers are INT attributes; floats must be tagged, since 1.0 and 1 look alike in JS. */
type Attr = number | number[] | string | { f: number } | { floats: number[] };

interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, Attr>>;
}

interface InitSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  readonly raw: Uint8Array;
}

export interface ValueSpec {
  readonly name: string;
  /** A number is a fixed size, a string a symbolic one (e.g. the batch); absent: unknown rank. */
  readonly dims?: readonly (number | string)[];
  /** ONNX element type; float32 unless said. */
  readonly elemType?: number;
}

export class GraphBuilder {
  readonly #nodes: NodeSpec[] = [];
  readonly #inits: InitSpec[] = [];
  #counter = 0;
  readonly floatType: FloatType;

  constructor(options: { floatType?: FloatType } = {}) {
    this.floatType = options.floatType ?? 'float32';
  }

  /** The ONNX element type of the graph's float tensors. */
  get floatDataType(): number {
    return this.floatType === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
  }

  /** Adds a node and returns its (first) output name. */
  node(op: string, inputs: readonly string[], attrs?: Record<string, Attr>, outputName?: string): string {
    const out = outputName ?? `${op.toLowerCase()}_${this.#counter++}`;
    this.#nodes.push({ op, inputs, outputs: [out], ...(attrs === undefined ? {} : { attrs }) });
    return out;
  }

  /** A float initializer in the graph's float type (rounded to nearest-even in float16). */
  floatInit(name: string, dims: readonly number[], data: Float32Array): string {
    if (this.floatType === 'float16') {
      const raw = new Uint8Array(data.length * 2);
      const view = new DataView(raw.buffer);
      data.forEach((v, i) => view.setUint16(i * 2, floatToHalf(v), true));
      this.#inits.push({ name, dims, dataType: DataType.FLOAT16, raw });
      return name;
    }
    return this.float32Init(name, dims, data);
  }

  /** A float32 initializer whatever the graph's float type (quantization scales). */
  float32Init(name: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    const raw = new Uint8Array(data.length * 4);
    const view = new DataView(raw.buffer);
    data.forEach((v, i) => view.setFloat32(i * 4, v, true));
    this.#inits.push({ name, dims, dataType: DataType.FLOAT, raw });
    return name;
  }

  /** An 8-bit initializer (int8 weights, or an int8/uint8 zero point). */
  int8Init(name: string, dims: readonly number[], data: Int8Array | Uint8Array): string {
    const dataType = data instanceof Int8Array ? DataType.INT8 : DataType.UINT8;
    this.#inits.push({
      name,
      dims,
      dataType,
      raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
    });
    return name;
  }

  int32Init(name: string, dims: readonly number[], data: Int32Array): string {
    const raw = new Uint8Array(data.length * 4);
    const view = new DataView(raw.buffer);
    data.forEach((v, i) => view.setInt32(i * 4, v, true));
    this.#inits.push({ name, dims, dataType: DataType.INT32, raw });
    return name;
  }

  int64Init(name: string, values: readonly number[]): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.#inits.push({ name, dims: [values.length], dataType: DataType.INT64, raw });
    return name;
  }

  encode(options: {
    graphName: string;
    inputs: readonly ValueSpec[];
    outputs: readonly ValueSpec[];
    opset: number;
    irVersion: number;
    producerVersion: string;
    docString: string;
    metadata: Readonly<Record<string, string>>;
  }): Uint8Array {
    const valueInfo = (v: ValueSpec) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: v.elemType ?? DataType.FLOAT,
          ...(v.dims === undefined
            ? {}
            : {
                shape: {
                  dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
                },
              }),
        },
      },
    });
    const message = ModelProto.fromObject({
      irVersion: options.irVersion,
      producerName: 'fadnet-edge',
      producerVersion: options.producerVersion,
      docString: options.docString,
      opsetImport: [{ domain: '', version: options.opset }],
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: options.graphName,
        node: this.#nodes.map((n, i) => ({
          name: `${n.op}_${i}`,
          opType: n.op,
          input: [...n.inputs],
          output: [...n.outputs],
          attribute: Object.entries(n.attrs ?? {}).map(([name, value]) => encodeAttr(name, value)),
        })),
        initializer: this.#inits.map((t) => ({
          name: t.name,
          dims: [...t.dims],
          dataType: t.dataType,
          rawData: t.raw,
        })),
        input: options.inputs.map(valueInfo),
        output: options.outputs.map(valueInfo),
      },
    });
    return ModelProto.encode(message).finish();
  }
}

function encodeAttr(name: string, value: Attr): Record<string, unknown> {
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if ('f' in value) return { name, type: AttributeType.FLOAT, f: value.f };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}
