/**
 * Reverse-mode differentiation of a graph written with GraphBuilder: the
 * gradient nodes are appended to the same builder, so the forward pass and
 * the backward pass are one graph, run by onnxruntime in one session (its
 * optimizer sees both, and forward activations stay in place for the
 * backward nodes that read them). onnxruntime-node runs graphs but has no
 * training API; this is how its training graphs are made.
 *
 * The walk visits the forward nodes in reverse order from the loss, only
 * those on a path from a `wrt` value to the loss through float values; each
 * node's rule (./rules) adds its inputs' gradients; a value read by several
 * nodes sums its gradients. Integer and bool values, and operators such as
 * Shape, Equal or Cast to an integer, carry no gradient. An operator on the
 * path with no rule is an Error naming it.
 *
 * Requirements: the nodes are in topological order (ONNX requires it), the
 * opset is 13 or later (axes as inputs; Softmax over one axis), 16 or later
 * where a Gather's table gets a gradient (ScatterND's add). For fp32
 * LayerNormalization nodes on the path, the walk asks the forward node for
 * its optional Mean and InvStdDev outputs.
 */
import { type Dim, DT, type GraphBuilder, type NodeProto } from '../graph.js';
import { GradientContext, type GradientRule } from './context.js';
import { isFloatType, zeroTensor } from './proto.js';
import { constantOperators, gradientRules } from './rules/index.js';
import { type Facts, inferShapes } from './shapes.js';

export interface DifferentiateOptions {
  /** The value to differentiate: a scalar loss (any value, with `seed`). */
  loss: string;
  /** The values to differentiate by: graph inputs (the weights a step is fed), initializers or intermediate values. */
  wrt: readonly string[];
  /**
   * The gradient of the final objective by `loss`, a value of loss's shape
   * (a graph input: backpropagation into this graph from another). Default: 1,
   * and the loss must then have a single element.
   */
  seed?: string;
  /** The forward nodes to differentiate; default every node in the builder. */
  nodes?: readonly NodeProto[];
  /** Dims of graph inputs, overriding what the graph declares. */
  shapes?: Record<string, Dim[]>;
  /** Declare each gradient as a graph output: true names it `grad_<wrt>`, a function names it. */
  outputs?: boolean | ((wrt: string) => string);
  /** Rules added to or replacing the built-in ones, by operator type (`domain.OpType` outside the default domain). */
  rules?: Readonly<Record<string, GradientRule>>;
}

export interface Differentiation {
  /** The gradient of the loss by each `wrt` value: the name of a value of the same shape (the output's name when declared as one). */
  gradients: Record<string, string>;
  /** The facts (type, dims) of every forward value, as the rules saw them. */
  facts: Facts;
}

const ruleKey = (n: NodeProto) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : (n.opType ?? ''));

/** Adds the backward pass of the loss to `g` (see the module header). */
export function differentiate(g: GraphBuilder, options: DifferentiateOptions): Differentiation {
  const graph = g.toGraph();
  const nodes = [...(options.nodes ?? graph.node ?? [])];
  const facts = inferShapes(graph, { nodes, ...(options.shapes ? { shapes: options.shapes } : {}) });
  const rules = { ...gradientRules, ...options.rules };
  const fail = (message: string): never => {
    throw new Error(`autodiff: ${message}`);
  };
  for (const w of options.wrt) {
    const f = facts.get(w);
    if (!f) fail(`"${w}" is not a value of the graph`);
    if (!isFloatType(f?.type)) fail(`"${w}" is not a float value`);
  }
  const lossFacts = facts.get(options.loss) ?? fail(`the loss "${options.loss}" is not a value of the graph (or its type cannot be inferred)`);
  if (!isFloatType(lossFacts.type)) fail(`the loss "${options.loss}" is not a float value`);

  // The values that depend on a wrt value through float values.
  const active = new Set(options.wrt);
  for (const n of nodes) {
    if (constantOperators.has(n.opType ?? '') || !(n.input ?? []).some((i) => active.has(i))) continue;
    for (const o of n.output ?? []) if (o && isFloatType(facts.get(o)?.type)) active.add(o);
  }

  const contributions = new Map<string, string[]>();
  const totals = new Map<string, string>();
  const add = (value: string, grad: string) => {
    if (totals.has(value)) fail(`"${value}" gets a gradient after its total was taken: are the nodes in topological order?`);
    contributions.set(value, [...(contributions.get(value) ?? []), grad]);
  };
  /** The value's gradient: the sum of what every reader contributed (undefined if none). */
  const total = (value: string): string | undefined => {
    if (totals.has(value)) return totals.get(value);
    const parts = contributions.get(value);
    const sum = !parts ? undefined : parts.length === 1 ? parts[0]! : g.node(parts.length === 2 ? 'Add' : 'Sum', parts);
    if (sum) totals.set(value, sum);
    return sum;
  };

  add(options.loss, options.seed ?? unitSeed(g, lossFacts.type, lossFacts.dims, options.loss));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    const outs = node.output ?? [];
    if (!outs.some((o) => contributions.has(o))) continue;
    const wanted = (node.input ?? []).map((name) => active.has(name));
    if (!wanted.some(Boolean)) continue;
    const rule = rules[ruleKey(node)];
    if (!rule) fail(`no gradient rule for ${ruleKey(node)} (node "${node.name}", on the path from ${options.wrt.join(', ')} to ${options.loss})`);
    const dy = outs.map((o) => (o ? total(o) : undefined));
    const grads = rule!(new GradientContext(g, node, facts, dy, wanted));
    for (const [k, name] of (node.input ?? []).entries()) {
      if (!wanted[k]) continue;
      const grad = grads[k] ?? fail(`the ${ruleKey(node)} rule gave no gradient for input ${k} of node "${node.name}"`);
      add(name, grad);
    }
  }

  const gradients: Record<string, string> = {};
  for (const w of options.wrt) {
    const f = facts.get(w)!;
    // A value the loss does not depend on has a zero gradient.
    let grad = total(w) ?? g.node('ConstantOfShape', [g.node('Shape', [w])], { value: { tensor: zeroTensor(f.type) } });
    if (options.outputs) {
      const name = typeof options.outputs === 'function' ? options.outputs(w) : `grad_${w}`;
      g.output(name, grad, f.type, f.dims);
      grad = name;
    }
    gradients[w] = grad;
  }
  return { gradients, facts };
}

/** The gradient of the loss by itself: 1, shaped as the loss, which must hold one element. */
function unitSeed(g: GraphBuilder, type: number, dims: Dim[] | undefined, loss: string): string {
  if (!dims || dims.some((d) => d !== 1)) throw new Error(`autodiff: the loss "${loss}" must be a scalar (dims [${dims ?? '?'}]), or give a seed`);
  const one = type === DT.DOUBLE ? g.scalarDouble(1) : type === DT.FLOAT ? g.scalar(1) : g.node('Cast', [g.scalar(1)], { to: type });
  return dims.length ? g.node('Reshape', [one, g.ints(dims as number[])]) : one;
}
