/**
 * Static element types and shapes of a graph's values, which the gradient
 * rules need to know where an input was broadcast (its gradient is then
 * summed over those axes) and how to reshape a gradient back.
 *
 * Dims are numbers or symbolic names ('batch'). A symbolic dim is taken to
 * be the same size wherever its name appears and never to broadcast (never 1
 * at run time where it meets a larger dim); two different names meeting in a
 * broadcast, or an operator this does not know, leave the dims unknown, and
 * only a rule that needs them fails (an unknown operator's outputs are taken
 * to have its first input's type). Small integer tensors (initializers,
 * Constant nodes, Shape's output) carry their contents, so Reshape's shape,
 * Slice's starts or ReduceSum's axes are known where they are constant.
 */
import type { Dim, GraphProto, NodeProto } from '../graph.js';
import { DT, intOf } from '../graph.js';
import { attrInt, attrInts, attrTensor, hasAttr, tensorValues } from './proto.js';

export interface ValueFacts {
  /** ONNX element type (TensorProto.DataType). */
  type: number;
  /** Undefined when unknown. */
  dims?: Dim[];
  /** The contents, flattened, of a small constant tensor or of a Shape's output (whose dims may be symbolic). */
  value?: Dim[];
}

export type Facts = Map<string, ValueFacts>;

/** Slice bounds at or beyond this mean "to the end" (exporters write INT64_MAX or INT32_MAX). */
export const TO_THE_END = 2 ** 30;

/** Constants larger than this are not read (rules need shapes, axes and exponents, not weights). */
const CONSTANT_LIMIT = 64;

type Inference = (node: NodeProto, ins: (ValueFacts | undefined)[], fresh: (axis: number) => string) => (ValueFacts | undefined)[];

/** The broadcast of several dims lists (ONNX multidirectional broadcasting), or undefined if unknown or incompatible. */
export function broadcastDims(shapes: readonly (readonly Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const all = shapes as readonly (readonly Dim[])[];
  const rank = Math.max(0, ...all.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of all) {
      const e = s[s.length - rank + i];
      if (e === undefined || e === 1 || e === d) continue;
      if (d === 1) d = e;
      else if (typeof d === 'string' && typeof e === 'number') d = e;
      else if (!(typeof d === 'number' && typeof e === 'string')) return undefined;
    }
    out.push(d);
  }
  return out;
}

/** A (possibly negative) axis of a rank-`rank` tensor as an index. */
export function normalizeAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** The product of dims: a number if all are numbers, else a symbolic name for the product. */
function product(dims: readonly Dim[]): Dim {
  const symbols = dims.filter((d): d is string => typeof d === 'string');
  const n = dims.filter((d): d is number => typeof d === 'number').reduce((a, b) => a * b, 1);
  if (symbols.length === 0) return n;
  return [...symbols, ...(n !== 1 ? [String(n)] : [])].join('*');
}

/** The sum of dims: a number if all are numbers, else a symbolic name for the sum. */
function total(dims: readonly Dim[]): Dim {
  const symbols = dims.filter((d): d is string => typeof d === 'string');
  const n = dims.filter((d): d is number => typeof d === 'number').reduce((a, b) => a + b, 0);
  if (symbols.length === 0) return n;
  return [...symbols, ...(n !== 0 ? [String(n)] : [])].join('+');
}

/** Reshape's output dims from its input dims and shape value (0 copies, −1 infers). */
function reshapeDims(input: readonly Dim[] | undefined, shape: readonly Dim[], allowZero: boolean, fresh: (axis: number) => string): Dim[] | undefined {
  const out = shape.map((d, i) => (d === 0 && !allowZero ? input?.[i] : d));
  if (out.some((d) => d === undefined)) return undefined;
  const at = out.indexOf(-1);
  if (at < 0) return out as Dim[];
  if (!input) return undefined;
  // Cancel what the input and the named output dims share; what is left is the inferred dim.
  const left = [...input];
  let known = 1;
  for (const [i, d] of out.entries()) {
    if (i === at) continue;
    const same = left.indexOf(d as Dim);
    if (same >= 0) left.splice(same, 1);
    else if (typeof d === 'number') known *= d;
    else return withDim(out as Dim[], at, fresh(at));
  }
  const numeric = left.filter((d): d is number => typeof d === 'number').reduce((a, b) => a * b, 1);
  const symbols = left.filter((d): d is string => typeof d === 'string');
  if (numeric % known !== 0) return withDim(out as Dim[], at, fresh(at));
  return withDim(out as Dim[], at, product([...symbols, numeric / known]));
}

function withDim(dims: Dim[], at: number, d: Dim): Dim[] {
  const out = [...dims];
  out[at] = d;
  return out;
}

/** The axes a node reads from attribute `axes` (older opsets) or from input `index` (newer ones); undefined if not constant, [] if absent. */
export function axesOf(node: NodeProto, ins: (ValueFacts | undefined)[], index: number): number[] | undefined {
  if (hasAttr(node, 'axes')) return attrInts(node, 'axes');
  if (!node.input?.[index]) return [];
  const v = ins[index]?.value;
  return v?.every((d) => typeof d === 'number') ? (v as number[]) : undefined;
}

/**
 * The dims of a reduction's output and the axes it reduces (all when none
 * are given, unless noop_with_empty_axes); `all` when it reduces every axis,
 * which is known even where the input's dims are not.
 */
export function reduced(node: NodeProto, ins: (ValueFacts | undefined)[], axesInput: number): { dims?: Dim[]; axes?: number[]; all?: boolean } {
  const dims = ins[0]?.dims;
  const given = axesOf(node, ins, axesInput);
  const keep = attrInt(node, 'keepdims', 1);
  const all = given?.length === 0 && !attrInt(node, 'noop_with_empty_axes', 0);
  if (!dims) return all ? { all, ...(keep ? {} : { dims: [] }) } : {};
  if (!given) return {};
  if (given.length === 0 && !all) return { dims: [...dims], axes: [] };
  const axes = given.length ? given.map((a) => normalizeAxis(a, dims.length)).sort((a, b) => a - b) : dims.map((_, i) => i);
  return { axes, all: axes.length === dims.length, dims: dims.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d])) };
}

const same: Inference = (_, ins) => [ins[0] && { type: ins[0].type, ...(ins[0].dims ? { dims: ins[0].dims } : {}) }];
const elementwise =
  (type?: number): Inference =>
  (_, ins) => {
    const dims = broadcastDims(ins.map((i) => i?.dims));
    const t = type ?? ins[0]?.type;
    return [t === undefined ? undefined : { type: t, ...(dims ? { dims } : {}) }];
  };
const reduction =
  (axesInput: number): Inference =>
  (node, ins) => {
    const { dims } = reduced(node, ins, axesInput);
    return [ins[0] && { type: ins[0].type, ...(dims ? { dims } : {}) }];
  };
const numbersOf = (v: Dim[] | undefined) => (v?.every((d) => typeof d === 'number') ? (v as number[]) : undefined);

function matmulDims(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcastDims([a2.slice(0, -2), b2.slice(0, -2)]);
  if (!batch) return undefined;
  return [...batch, ...(a.length === 1 ? [] : [a2[a2.length - 2]!]), ...(b.length === 1 ? [] : [b2[b2.length - 1]!])];
}

/** The inference of each operator's outputs; an operator missing here leaves its outputs unknown. */
const INFER: Record<string, Inference> = {
  Identity: (_, ins) => [ins[0]],
  Neg: same,
  Abs: same,
  Sqrt: same,
  Exp: same,
  Log: same,
  Erf: same,
  Tanh: same,
  Relu: same,
  Sigmoid: same,
  Softplus: same,
  Sign: same,
  Floor: same,
  Ceil: same,
  Round: same,
  Not: same,
  Softmax: same,
  LogSoftmax: same,
  Trilu: same,
  Add: elementwise(),
  Sub: elementwise(),
  Mul: elementwise(),
  Div: elementwise(),
  Pow: elementwise(),
  Sum: elementwise(),
  Max: elementwise(),
  Min: elementwise(),
  Equal: elementwise(DT.BOOL),
  Greater: elementwise(DT.BOOL),
  GreaterOrEqual: elementwise(DT.BOOL),
  Less: elementwise(DT.BOOL),
  LessOrEqual: elementwise(DT.BOOL),
  And: elementwise(DT.BOOL),
  Or: elementwise(DT.BOOL),
  Xor: elementwise(DT.BOOL),
  Where: (_, ins) => {
    const dims = broadcastDims(ins.map((i) => i?.dims));
    const t = ins[1]?.type ?? ins[2]?.type;
    return [t === undefined ? undefined : { type: t, ...(dims ? { dims } : {}) }];
  },
  Dropout: (_, ins) => [
    ins[0] && { type: ins[0].type, ...(ins[0].dims ? { dims: ins[0].dims } : {}) },
    ins[0] && { type: DT.BOOL, ...(ins[0].dims ? { dims: ins[0].dims } : {}) },
  ],
  Cast: (node, ins) => [
    { type: attrInt(node, 'to', DT.FLOAT), ...(ins[0]?.dims ? { dims: ins[0].dims } : {}), ...(ins[0]?.value ? { value: ins[0].value } : {}) },
  ],
  Shape: (node, ins) => {
    const dims = ins[0]?.dims;
    if (!dims) return [{ type: DT.INT64 }];
    const start = normalizeAxis(attrInt(node, 'start', 0), dims.length);
    const end = hasAttr(node, 'end') ? normalizeAxis(attrInt(node, 'end', 0), dims.length) : dims.length;
    const value = dims.slice(Math.max(0, start), Math.min(dims.length, end));
    return [{ type: DT.INT64, dims: [value.length], value }];
  },
  Size: () => [{ type: DT.INT64, dims: [] }],
  Constant: (node) => {
    const t = attrTensor(node, 'value');
    if (t) {
      const dims = (t.dims ?? []).map(intOf);
      const values = dims.reduce((a, b) => a * b, 1) <= CONSTANT_LIMIT ? tensorValues(t) : undefined;
      return [{ type: t.dataType ?? DT.FLOAT, dims, ...(values ? { value: values } : {}) }];
    }
    const ints = attrInts(node, 'value_ints');
    if (ints) return [{ type: DT.INT64, dims: [ints.length], value: ints }];
    if (hasAttr(node, 'value_int')) return [{ type: DT.INT64, dims: [], value: [attrInt(node, 'value_int', 0)] }];
    if (hasAttr(node, 'value_float')) return [{ type: DT.FLOAT, dims: [] }];
    return [undefined];
  },
  ConstantOfShape: (node, ins) => {
    const shape = ins[0]?.value;
    return [{ type: attrTensor(node, 'value')?.dataType ?? DT.FLOAT, ...(shape ? { dims: shape } : {}) }];
  },
  MatMul: (_, ins) => {
    const dims = matmulDims(ins[0]?.dims, ins[1]?.dims);
    return [ins[0] && { type: ins[0].type, ...(dims ? { dims } : {}) }];
  },
  Gemm: (node, ins) => {
    const a = ins[0]?.dims;
    const b = ins[1]?.dims;
    const dims = a && b ? [attrInt(node, 'transA', 0) ? a[1]! : a[0]!, attrInt(node, 'transB', 0) ? b[0]! : b[1]!] : undefined;
    return [ins[0] && { type: ins[0].type, ...(dims ? { dims } : {}) }];
  },
  LayerNormalization: (node, ins) => {
    const x = ins[0];
    if (!x) return [undefined];
    const dims = x.dims;
    const axis = dims ? normalizeAxis(attrInt(node, 'axis', -1), dims.length) : 0;
    const stats = dims?.map((d, i) => (i < axis ? d : 1));
    const statType = attrInt(node, 'stash_type', 1) === 1 ? DT.FLOAT : x.type;
    return [
      { type: x.type, ...(dims ? { dims } : {}) },
      { type: statType, ...(stats ? { dims: stats } : {}) },
      { type: statType, ...(stats ? { dims: stats } : {}) },
    ];
  },
  ReduceSum: reduction(1),
  ReduceMean: reduction(1),
  ReduceMax: reduction(1),
  ReduceMin: reduction(1),
  ReduceProd: reduction(1),
  ReduceSumSquare: reduction(1),
  ReduceLogSumExp: reduction(1),
  Reshape: (node, ins, fresh) => {
    const shape = ins[1]?.value;
    const dims = shape && reshapeDims(ins[0]?.dims, shape, attrInt(node, 'allowzero', 0) === 1, fresh);
    return [ins[0] && { type: ins[0].type, ...(dims ? { dims } : {}), ...(ins[0].value ? { value: ins[0].value } : {}) }];
  },
  Flatten: (node, ins) => {
    const dims = ins[0]?.dims;
    const axis = dims ? normalizeAxis(attrInt(node, 'axis', 1), dims.length) : 0;
    return [ins[0] && { type: ins[0].type, ...(dims ? { dims: [product(dims.slice(0, axis)), product(dims.slice(axis))] } : {}) }];
  },
  Transpose: (node, ins) => {
    const dims = ins[0]?.dims;
    const perm = attrInts(node, 'perm') ?? dims?.map((_, i) => dims.length - 1 - i);
    return [ins[0] && { type: ins[0].type, ...(dims && perm ? { dims: perm.map((p) => dims[p]!) } : {}) }];
  },
  Unsqueeze: (node, ins) => {
    const dims = ins[0]?.dims;
    const axes = axesOf(node, ins, 1);
    if (!dims || !axes) return [ins[0] && { type: ins[0].type }];
    const rank = dims.length + axes.length;
    const at = new Set(axes.map((a) => normalizeAxis(a, rank)));
    const out: Dim[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : dims[k++]!);
    return [{ type: ins[0]!.type, dims: out, ...(ins[0]!.value ? { value: ins[0]!.value } : {}) }];
  },
  Squeeze: (node, ins) => {
    const dims = ins[0]?.dims;
    const axes = axesOf(node, ins, 1);
    if (!dims || !axes) return [ins[0] && { type: ins[0].type }];
    const at = new Set(axes.length ? axes.map((a) => normalizeAxis(a, dims.length)) : dims.flatMap((d, i) => (d === 1 ? [i] : [])));
    return [{ type: ins[0]!.type, dims: dims.filter((_, i) => !at.has(i)), ...(ins[0]!.value ? { value: ins[0]!.value } : {}) }];
  },
  Expand: (_, ins) => {
    const shape = ins[1]?.value;
    const dims = shape ? broadcastDims([ins[0]?.dims, shape]) : undefined;
    return [ins[0] && { type: ins[0].type, ...(dims ? { dims } : {}) }];
  },
  Gather: (node, ins) => {
    const data = ins[0]?.dims;
    const indices = ins[1]?.dims;
    if (!ins[0]) return [undefined];
    if (!data || !indices) return [{ type: ins[0].type }];
    const axis = normalizeAxis(attrInt(node, 'axis', 0), data.length);
    const dims = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
    // Shape arithmetic: a constant 1-D value gathered at constant indices.
    const idx = numbersOf(ins[1]?.value);
    const v = ins[0].value;
    const value = data.length === 1 && v && idx ? idx.map((i) => v[i < 0 ? i + v.length : i]!) : undefined;
    return [{ type: ins[0].type, dims, ...(value ? { value } : {}) }];
  },
  Slice: (node, ins, fresh) => {
    const data = ins[0]?.dims;
    if (!ins[0]) return [undefined];
    const starts = numbersOf(ins[1]?.value);
    const ends = numbersOf(ins[2]?.value);
    const axes = node.input?.[3] ? numbersOf(ins[3]?.value) : starts?.map((_, i) => i);
    const steps = node.input?.[4] ? numbersOf(ins[4]?.value) : starts?.map(() => 1);
    if (!data || !starts || !ends || !axes || !steps) return [{ type: ins[0].type }];
    const dims = [...data];
    let value = ins[0].value && data.length === 1 ? [...ins[0].value] : undefined;
    for (const [i, a] of axes.entries()) {
      const axis = normalizeAxis(a, data.length);
      const range = sliceRange(data[axis]!, starts[i]!, ends[i]!, steps[i]!);
      const whole = starts[i] === 0 && ends[i]! >= TO_THE_END && steps[i] === 1;
      dims[axis] = range ? Math.max(0, Math.ceil((range.end - range.start) / steps[i]!)) : whole ? data[axis]! : fresh(axis);
      if (value && range && steps[i] === 1) value = value.slice(range.start, range.end);
      else value = undefined;
    }
    return [{ type: ins[0].type, dims, ...(value ? { value } : {}) }];
  },
  Concat: (node, ins) => {
    const first = ins.find((i) => i);
    if (!first) return [undefined];
    const all = ins.map((i) => i?.dims);
    if (all.some((d) => !d)) return [{ type: first.type }];
    const dims = [...all[0]!];
    const axis = normalizeAxis(attrInt(node, 'axis', 0), dims.length);
    dims[axis] = total(all.map((d) => d![axis]!));
    const values = ins.map((i) => i?.value);
    const value = dims.length === 1 && values.every((v) => v) ? values.flatMap((v) => v!) : undefined;
    if (value) dims[0] = value.length;
    return [{ type: first.type, dims, ...(value ? { value } : {}) }];
  },
  OneHot: (node, ins) => {
    const indices = ins[0]?.dims;
    const depth = ins[1]?.value?.[0];
    const type = ins[2]?.type ?? DT.FLOAT;
    if (!indices || depth === undefined) return [{ type }];
    const dims = [...indices];
    dims.splice(normalizeAxis(attrInt(node, 'axis', -1), indices.length + 1), 0, depth);
    return [{ type, dims }];
  },
};

/**
 * The [start, end) a Slice takes of a dim, clamped as ONNX does, or undefined
 * where the dim is symbolic and the bounds depend on it (steps of 1 only:
 * other steps give undefined unless the dim is a number).
 */
function sliceRange(dim: Dim, start: number, end: number, step: number): { start: number; end: number } | undefined {
  if (typeof dim === 'number') {
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const s = start < 0 ? start + dim : start;
    const e = end < 0 ? end + dim : end;
    return step > 0 ? { start: clamp(s, 0, dim), end: clamp(e, 0, dim) } : { start: clamp(s, -1, dim - 1), end: clamp(e, -1, dim - 1) };
  }
  return undefined;
}

/**
 * The facts of every value of `graph`, from its declared inputs (dims in
 * `shapes` override what the graph declares), its initializers and the
 * inference of each node in `nodes` (the graph's own by default).
 */
export function inferShapes(graph: GraphProto, options: { nodes?: readonly NodeProto[]; shapes?: Record<string, Dim[]> } = {}): Facts {
  const facts: Facts = new Map();
  for (const t of graph.initializer ?? []) {
    const dims = (t.dims ?? []).map(intOf);
    const value = dims.reduce((a, b) => a * b, 1) <= CONSTANT_LIMIT ? tensorValues(t) : undefined;
    facts.set(t.name ?? '', { type: t.dataType ?? DT.FLOAT, dims, ...(value ? { value } : {}) });
  }
  for (const i of graph.input ?? []) {
    const tensor = i.type?.tensorType;
    const declared = tensor?.shape
      ? (tensor.shape.dim ?? []).map((d, k) => (d.dimParam ? d.dimParam : d.dimValue != null ? intOf(d.dimValue) : `?${i.name}:${k}`))
      : undefined;
    facts.set(i.name ?? '', { type: tensor?.elemType ?? DT.FLOAT, ...(declared ? { dims: declared } : {}) });
  }
  for (const [name, dims] of Object.entries(options.shapes ?? {})) {
    const known = facts.get(name);
    if (!known) throw new Error(`autodiff: shapes names "${name}", which is not a graph input or initializer`);
    facts.set(name, { ...known, dims });
  }
  for (const node of options.nodes ?? graph.node ?? []) {
    const infer = node.domain ? undefined : INFER[node.opType ?? ''];
    const ins = (node.input ?? []).map((name) => (name ? facts.get(name) : undefined));
    // An operator not known here: its outputs taken to have its first input's type, their dims unknown.
    const outs = infer ? infer(node, ins, (axis) => `?${node.output?.[0]}:${axis}`) : (node.output ?? []).map(() => ins[0] && { type: ins[0].type });
    for (const [k, name] of (node.output ?? []).entries()) {
      const f = outs[k];
      if (name && f) facts.set(name, f);
    }
  }
  return facts;
}
