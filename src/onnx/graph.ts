/**
 * A small builder for ONNX graphs on top of the `onnx-proto` messages.
 *
 * Node and tensor names are generated deterministically from a counter, and
 * initializers keep insertion order, so the same inputs always encode to the
 * same bytes.
 */
import onnxProto from 'onnx-proto';
import { endianness } from 'node:os';

const { onnx } = onnxProto;
type DataType = onnxProto.onnx.TensorProto.DataType;
export const DT = onnx.TensorProto.DataType;

export type Dim = number | string;
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

export interface ValueInfo {
  name: string;
  type: DataType;
  dims: Dim[];
}

if (endianness() !== 'LE') throw new Error('the ONNX writer stores raw tensor bytes and assumes a little-endian host');

function valueInfo(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.type,
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: Buffer.from(value, 'utf8') };
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly opsetDomains = new Map<string, number>();
  private counter = 0;

  constructor(
    private readonly name: string,
    opset: number,
  ) {
    this.opsetDomains.set('', opset);
  }

  /** Declares a graph input and returns its name. */
  input(name: string, type: DataType, dims: Dim[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }

  /** Declares `tensor` as a graph output called `name` (through Identity when the names differ). */
  output(name: string, tensor: string, type: DataType, dims: Dim[]): void {
    if (tensor !== name) this.node('Identity', [tensor], {}, '', name);
    this.outputs.push({ name, type, dims });
  }

  /** Adds an fp32 initializer. */
  float(name: string, dims: number[], data: Float32Array | number[]): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    const expected = dims.reduce((a, b) => a * b, 1);
    if (arr.length !== expected) throw new Error(`initializer ${name}: ${arr.length} values for dims ${dims.join('x')}`);
    this.initializers.push({
      name,
      dims,
      dataType: DT.FLOAT,
      rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength),
    });
    return name;
  }

  /** Adds an int64 initializer. */
  int64(name: string, dims: number[], values: number[]): string {
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: DT.INT64, rawData: new Uint8Array(raw.buffer) });
    return name;
  }

  /** A scalar fp32 constant, named after its value so identical constants are shared. */
  scalar(value: number): string {
    const name = `const_f_${value}`;
    if (!this.initializers.some((t) => t.name === name)) this.float(name, [], [value]);
    return name;
  }

  /** An int64 vector constant, shared like `scalar`. */
  ints(values: number[]): string {
    const name = `const_i_${values.join('_')}`;
    if (!this.initializers.some((t) => t.name === name)) this.int64(name, [values.length], values);
    return name;
  }

  /** Declares that the graph uses operators of `domain` at `version`. */
  useDomain(domain: string, version: number): void {
    this.opsetDomains.set(domain, version);
  }

  /** Appends a node and returns the name of its (first) output. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain = '', outputName?: string): string {
    const id = this.counter++;
    const output = outputName ?? `${op.toLowerCase()}_${id}`;
    this.nodes.push({
      name: `${op}_${id}`,
      opType: op,
      domain,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** Encodes the model as ONNX protobuf bytes. */
  encode(producer: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      opsetImport: [...this.opsetDomains].map(([domain, version]) => ({ domain, version })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
