/**
 * A small builder for ONNX graphs on top of the `onnx-proto` messages.
 *
 * Node and tensor names are generated deterministically from a counter, and
 * initializers keep insertion order, so the same inputs always encode to the
 * same bytes. A builder can also start from a decoded model (`extend`) and
 * grow it: its generated names then carry a prefix, so they cannot collide
 * with the names already in the graph.
 */
import onnxProto from 'onnx-proto';
import { endianness } from 'node:os';

const { onnx } = onnxProto;
type DataType = onnxProto.onnx.TensorProto.DataType;
export const DT = onnx.TensorProto.DataType;
export type ModelProto = onnxProto.onnx.IModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type GraphProto = onnxProto.onnx.IGraphProto;

export type Dim = number | string;
export type AttrValue =
  | number
  | number[]
  | string
  | { float: number }
  | { floats: number[] | Float32Array }
  | { strings: string[] }
  | { graph: GraphProto }
  | { tensor: onnxProto.onnx.ITensorProto };

export interface ValueInfo {
  name: string;
  type: DataType;
  /** Omitted: the shape is not declared (a loop body's values). */
  dims?: Dim[];
}

if (endianness() !== 'LE') throw new Error('the ONNX writer stores raw tensor bytes and assumes a little-endian host');

function valueInfo(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  const shape = v.dims && { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name: v.name, type: { tensorType: { elemType: v.type, ...(shape ? { shape } : {}) } } };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: Buffer.from(value, 'utf8') };
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: T.FLOATS, floats: Array.from(value.floats) };
  if ('strings' in value) return { name, type: T.STRINGS, strings: value.strings.map((s) => Buffer.from(s, 'utf8')) };
  if ('graph' in value) return { name, type: T.GRAPH, g: value.graph };
  return { name, type: T.TENSOR, t: value.tensor };
}

/** An int64 field as protobufjs decodes it (a number, or a Long for values it cannot trust to a double). */
export function intOf(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** What a builder and the subgraphs it starts share: names must be unique across the whole model. */
interface Shared {
  counter: number;
  readonly prefix: string;
  readonly initializers: onnxProto.onnx.ITensorProto[];
  readonly initializerNames: Set<string>;
  readonly opsetDomains: Map<string, number>;
}

export class GraphBuilder {
  private nodes: NodeProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly shared: Shared;
  /** False for a subgraph: its initializers live in the root graph. */
  private readonly root: boolean;

  constructor(
    private readonly name: string,
    opset: number,
    options: { prefix?: string } = {},
    shared?: Shared,
  ) {
    this.root = shared === undefined;
    this.shared = shared ?? {
      counter: 0,
      prefix: options.prefix ?? '',
      initializers: [],
      initializerNames: new Set(),
      opsetDomains: new Map([['', opset]]),
    };
  }

  /**
   * A builder holding a decoded model's graph, to grow it: nodes appended
   * after the model's own, generated names prefixed with `prefix`.
   */
  static extend(model: ModelProto, prefix: string): GraphBuilder {
    const graph = model.graph ?? {};
    const opsets = model.opsetImport ?? [];
    const g = new GraphBuilder(graph.name ?? 'graph', intOf(opsets.find((o) => !o.domain)?.version) || 17, { prefix });
    for (const o of opsets) if (o.domain) g.useDomain(o.domain, intOf(o.version));
    g.nodes = [...(graph.node ?? [])];
    for (const t of graph.initializer ?? []) g.addInitializer(t);
    g.inputs.push(...(graph.input ?? []));
    g.outputs = [...(graph.output ?? [])];
    return g;
  }

  /** A builder for a subgraph (a Loop's body): its nodes are its own; names and initializers are shared with this graph. */
  subgraph(name: string): GraphBuilder {
    return new GraphBuilder(name, 0, {}, this.shared);
  }

  /** Declares a graph input and returns its name. */
  input(name: string, type: DataType, dims?: Dim[]): string {
    this.inputs.push(valueInfo({ name, type, ...(dims ? { dims } : {}) }));
    return name;
  }

  /** The graph's inputs, by name. */
  get inputNames(): string[] {
    return this.inputs.map((i) => i.name ?? '');
  }

  /** Drops a graph input; something in the graph must produce a value of that name instead. */
  removeInput(name: string): void {
    const at = this.inputs.findIndex((i) => i.name === name);
    if (at >= 0) this.inputs.splice(at, 1);
  }

  /** The graph's outputs, by name. */
  get outputNames(): string[] {
    return this.outputs.map((o) => o.name ?? '');
  }

  /** Forgets every output declared so far (their nodes stay until `prune`). */
  clearOutputs(): void {
    this.outputs = [];
  }

  /** Declares `tensor` as a graph output called `name` (through Identity when the names differ). */
  output(name: string, tensor: string, type: DataType, dims?: Dim[]): void {
    if (tensor !== name) this.node('Identity', [tensor], {}, '', name);
    this.outputs.push(valueInfo({ name, type, ...(dims ? { dims } : {}) }));
  }

  /** Adds an fp32 initializer. */
  float(name: string, dims: number[], data: Float32Array | number[]): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    return this.raw(name, DT.FLOAT, dims, arr);
  }

  /** Adds an fp64 initializer. */
  double(name: string, dims: number[], data: Float64Array | number[]): string {
    const arr = data instanceof Float64Array ? data : Float64Array.from(data);
    return this.raw(name, DT.DOUBLE, dims, arr);
  }

  /** Adds an int8 initializer (quantized weights). */
  int8(name: string, dims: number[], data: Int8Array): string {
    return this.raw(name, DT.INT8, dims, data);
  }

  /** Adds an int64 initializer. */
  int64(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.raw(name, DT.INT64, dims, BigInt64Array.from(Array.from(values, (v) => BigInt(v))));
  }

  /** A scalar fp32 constant, named after its value so identical constants are shared. */
  scalar(value: number): string {
    const name = `const_f_${value}`;
    return this.has(name) ? name : this.float(name, [], [value]);
  }

  /** A scalar fp64 constant, shared like `scalar`. */
  scalarDouble(value: number): string {
    const name = `const_d_${value}`;
    return this.has(name) ? name : this.double(name, [], [value]);
  }

  /** An int64 vector constant, shared like `scalar`. */
  ints(values: number[]): string {
    const name = `const_i_${values.join('_')}`;
    return this.has(name) ? name : this.int64(name, [values.length], values);
  }

  /** A scalar int64 constant, shared like `scalar`. */
  int(value: number): string {
    const name = `const_i_scalar_${value}`;
    return this.has(name) ? name : this.int64(name, [], [value]);
  }

  /** Declares that the graph uses operators of `domain` at `version`. */
  useDomain(domain: string, version: number): void {
    this.shared.opsetDomains.set(domain, version);
  }

  /** Appends a node and returns the name of its (first) output. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain = '', outputName?: string): string {
    return this.nodeWithOutputs(op, inputs, outputName ? [outputName] : 1, attrs, domain)[0]!;
  }

  /** Appends a node with several outputs (`outputs`: their names, or how many to generate) and returns their names. */
  nodeWithOutputs(op: string, inputs: string[], outputs: string[] | number, attrs: Record<string, AttrValue> = {}, domain = ''): string[] {
    const id = this.shared.counter++;
    const prefix = this.shared.prefix;
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `${prefix}${op.toLowerCase()}_${id}${i ? `_${i}` : ''}`) : outputs;
    this.nodes.push({
      name: `${prefix}${op}_${id}`,
      opType: op,
      domain,
      input: inputs,
      output: names,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return names;
  }

  /** Takes the nodes out of the graph, in order, so that they can be appended again (`append`) with some replaced. */
  takeNodes(): NodeProto[] {
    const taken = this.nodes;
    this.nodes = [];
    return taken;
  }

  /** Appends a node as it is. */
  append(node: NodeProto): void {
    this.nodes.push(node);
  }

  /**
   * Removes every node no graph output depends on, then every initializer and
   * operator domain nothing uses: what the outputs do not need is not shipped.
   */
  prune(): void {
    const needed = new Set(this.outputNames);
    const kept: NodeProto[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (!(n.output ?? []).some((o) => needed.has(o))) continue;
      kept.push(n);
      for (const name of referencedNames(n)) needed.add(name);
    }
    this.nodes = kept.reverse();
    const initializers = this.shared.initializers.filter((t) => needed.has(t.name ?? ''));
    this.shared.initializers.splice(0, this.shared.initializers.length, ...initializers);
    this.shared.initializerNames.clear();
    for (const t of initializers) this.shared.initializerNames.add(t.name ?? '');
    const domains = new Set<string>();
    const visit = (nodes: NodeProto[]) => {
      for (const n of nodes) {
        domains.add(n.domain ?? '');
        for (const a of n.attribute ?? []) if (a.g) visit(a.g.node ?? []);
      }
    };
    visit(this.nodes);
    for (const d of [...this.shared.opsetDomains.keys()]) if (d && !domains.has(d)) this.shared.opsetDomains.delete(d);
  }

  /** The graph as a message (a subgraph's, for a node attribute; the root's own initializers stay with the root). */
  toGraph(): GraphProto {
    return {
      name: this.name,
      node: this.nodes,
      ...(this.root ? { initializer: this.shared.initializers } : {}),
      input: this.inputs,
      output: this.outputs,
    };
  }

  /** Encodes the model as ONNX protobuf bytes, with `metadata` as its metadata_props. */
  encode(producer: string, metadata: Record<string, string> = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      opsetImport: [...this.shared.opsetDomains].map(([domain, version]) => ({ domain, version })),
      graph: this.toGraph(),
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private has(name: string): boolean {
    return this.shared.initializerNames.has(name);
  }

  private addInitializer(t: onnxProto.onnx.ITensorProto): void {
    this.shared.initializers.push(t);
    this.shared.initializerNames.add(t.name ?? '');
  }

  private raw(name: string, dataType: DataType, dims: number[], arr: Float32Array | Float64Array | BigInt64Array | Int8Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (arr.length !== expected) throw new Error(`initializer ${name}: ${arr.length} values for dims ${dims.join('x')}`);
    if (this.has(name)) throw new Error(`initializer ${name} is defined twice`);
    this.addInitializer({ name, dims, dataType, rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength) });
    return name;
  }
}

/** Every value name a node reads, those its subgraphs read from outer scopes included. */
function referencedNames(n: NodeProto): string[] {
  const names = [...(n.input ?? [])].filter(Boolean);
  for (const a of n.attribute ?? []) if (a.g) for (const inner of a.g.node ?? []) names.push(...referencedNames(inner));
  return names;
}
