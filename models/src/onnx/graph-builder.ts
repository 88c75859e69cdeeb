// A small builder for ONNX graphs: nodes, attributes and float32/int64 initializers, encoded
// with the protobufjs descriptor in proto.ts.
import { AttributeType, DataType, ModelProto } from './proto.ts';

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
  /** A number is a fixed size, a string a symbolic one (e.g. the batch). */
  readonly dims: readonly (number | string)[];
}

export class GraphBuilder {
  readonly #nodes: NodeSpec[] = [];
  readonly #inits: InitSpec[] = [];
  #counter = 0;

  /** Adds a node and returns its (first) output name. */
  node(op: string, inputs: readonly string[], attrs?: Record<string, Attr>, outputName?: string): string {
    const out = outputName ?? `${op.toLowerCase()}_${this.#counter++}`;
    this.#nodes.push({ op, inputs, outputs: [out], ...(attrs === undefined ? {} : { attrs }) });
    return out;
  }

  floatInit(name: string, dims: readonly number[], data: Float32Array): string {
    const raw = new Uint8Array(data.length * 4);
    const view = new DataView(raw.buffer);
    data.forEach((v, i) => view.setFloat32(i * 4, v, true));
    this.#inits.push({ name, dims, dataType: DataType.FLOAT, raw });
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
          elemType: DataType.FLOAT,
          shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
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
