/**
 * What a gradient rule works with: the node, its values' facts, the upstream
 * gradients, and the helpers every rule needs (summing a gradient back to a
 * broadcast input's shape, reshaping it, constants in the graph's float type),
 * so that each rule is only its derivative.
 */
import { DT, type Dim, type GraphBuilder, type NodeProto } from '../graph.js';
import type { Facts, ValueFacts } from './shapes.js';

/**
 * A gradient rule: given a node and the gradients of the loss by its outputs,
 * adds the nodes computing the gradients by its inputs and returns their
 * names, one per input (undefined where not wanted or not differentiable).
 * Every gradient returned has exactly its input's shape.
 */
export type GradientRule = (c: GradientContext) => (string | undefined)[];

const sameDims = (a: readonly Dim[], b: readonly Dim[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export class GradientContext {
  /** The facts of the node's inputs and outputs (undefined for an omitted optional one). */
  readonly inputs: (ValueFacts | undefined)[];
  readonly outputs: (ValueFacts | undefined)[];

  constructor(
    readonly g: GraphBuilder,
    readonly node: NodeProto,
    facts: Facts,
    /** The gradient of the loss by each output; undefined where an output does not reach the loss (a zero gradient). */
    readonly dy: readonly (string | undefined)[],
    private readonly wanted: readonly boolean[],
  ) {
    this.inputs = (node.input ?? []).map((n) => (n ? facts.get(n) : undefined));
    this.outputs = (node.output ?? []).map((n) => (n ? facts.get(n) : undefined));
  }

  /** The name of input i ('' if omitted). */
  input(i: number): string {
    return this.node.input?.[i] ?? '';
  }

  /** The name of output k. */
  output(k: number): string {
    return this.node.output?.[k] ?? '';
  }

  /** Whether the loss's gradient by input i is wanted. */
  wants(i: number): boolean {
    return this.wanted[i] === true;
  }

  /** The first output's upstream gradient (rules of single-output nodes). */
  get grad(): string {
    const d = this.dy[0];
    if (!d) this.fail('no gradient reaches its output');
    return d;
  }

  /** Input i's dims; fails when they are not known statically. */
  dims(i: number): Dim[] {
    const d = this.inputs[i]?.dims;
    if (!d) this.fail(`the shape of input ${i} (${this.input(i)}) is not known; declare the graph inputs' dims`);
    return d;
  }

  /** Output k's dims; fails when they are not known statically. */
  outDims(k = 0): Dim[] {
    const d = this.outputs[k]?.dims;
    if (!d) this.fail(`the shape of output ${k} (${this.output(k)}) is not known; declare the graph inputs' dims`);
    return d;
  }

  /** Input i's contents, which the rule needs constant (an initializer or a Constant). */
  constant(i: number): number[] {
    const v = this.inputs[i]?.value;
    if (!v || v.some((d) => typeof d !== 'number')) this.fail(`input ${i} (${this.input(i)}) must be a constant (an initializer)`);
    return v as number[];
  }

  /** Input i's contents if constant, else undefined. */
  constantOrUndefined(i: number): number[] | undefined {
    const v = this.inputs[i]?.value;
    return v?.every((d) => typeof d === 'number') ? (v as number[]) : undefined;
  }

  /** The element type gradients are carried in: the node's first output's. */
  get type(): number {
    return this.outputs[0]?.type ?? DT.FLOAT;
  }

  /** A scalar constant in the gradients' element type. */
  scalar(value: number): string {
    if (this.type === DT.DOUBLE) return this.g.scalarDouble(value);
    const f = this.g.scalar(value);
    return this.type === DT.FLOAT ? f : this.g.node('Cast', [f], { to: this.type });
  }

  /** Shorthand for a node of one output. */
  op(type: string, inputs: string[], attrs: Parameters<GraphBuilder['node']>[2] = {}): string {
    return this.g.node(type, inputs, attrs);
  }

  /**
   * `grad`, of dims `from`, summed over the axes along which a value of dims
   * `to` was broadcast to `from`: the leading axes `to` lacks, and those where
   * it has 1 and `from` does not.
   */
  sumTo(grad: string, from: readonly Dim[], to: readonly Dim[]): string {
    if (sameDims(from, to)) return grad;
    const lead = from.length - to.length;
    if (lead < 0) this.fail(`cannot sum a gradient of dims [${from}] to [${to}]`);
    const kept: number[] = [];
    for (const [j, d] of to.entries()) {
      const f = from[j + lead]!;
      if (d === 1 && f !== 1) kept.push(j + lead);
      else if (d !== f && typeof d === 'number' && typeof f === 'number') this.fail(`dims [${to}] do not broadcast to [${from}]`);
    }
    const leading = Array.from({ length: lead }, (_, i) => i);
    if (kept.length === 0 && lead === 0) return grad;
    if (kept.length === 0) return this.op('ReduceSum', [grad, this.g.ints(leading)], { keepdims: 0 });
    const summed = this.op('ReduceSum', [grad, this.g.ints([...leading, ...kept])], { keepdims: 1 });
    return lead ? this.op('Squeeze', [summed, this.g.ints(leading)]) : summed;
  }

  /**
   * `x` (dims `from`) reshaped to dims `to`: with a constant shape where the
   * dims allow (numbers, symbolic dims kept in place, one inferred), else with
   * the run-time shape of `like`, a value of dims `to`.
   */
  reshape(x: string, from: readonly Dim[], to: readonly Dim[], like: string): string {
    if (sameDims(from, to)) return x;
    const spec: number[] = [];
    let inferred = false;
    for (const [i, d] of to.entries()) {
      if (typeof d === 'number' && d !== 0) spec.push(d);
      else if (d === from[i] && d !== 0) spec.push(0);
      else if (!inferred && d !== 0) {
        spec.push(-1);
        inferred = true;
      } else return this.op('Reshape', [x, this.op('Shape', [like])]);
    }
    return this.op('Reshape', [x, this.g.ints(spec)]);
  }

  /** The size of dim `axis` of `value` (dims `dims`) as a 1-element int64 tensor: constant if known, else read at run time. */
  dimSize(value: string, dims: readonly Dim[], axis: number): string {
    const d = dims[axis];
    return typeof d === 'number' ? this.g.ints([d]) : this.op('Gather', [this.op('Shape', [value]), this.g.ints([axis])]);
  }

  /** The number of elements along `axes` of `value` (dims `dims`), as a scalar in the gradients' type: constant where those dims are numbers. */
  count(value: string, dims: readonly Dim[], axes: readonly number[]): string {
    const picked = axes.map((a) => dims[a]!);
    if (picked.every((d) => typeof d === 'number')) return this.scalar((picked as number[]).reduce((a, b) => a * b, 1));
    const sizes = this.op('Gather', [this.op('Shape', [value]), this.g.ints([...axes])]);
    return this.op('Cast', [this.op('ReduceProd', [sizes], { keepdims: 0 })], { to: this.type });
  }

  fail(message: string): never {
    throw new Error(`autodiff: ${this.node.opType} node "${this.node.name ?? this.output(0)}": ${message}`);
  }
}
