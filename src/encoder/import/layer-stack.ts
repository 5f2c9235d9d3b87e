/**
 * A stack of BERT encoder layers [first, last] added to a GraphBuilder, from
 * an input state [B, T, H] and the [B, T, T] `attends` mask (sequenceMask in
 * ./attention.ts). One builder for every graph that runs encoder layers: the
 * importer's whole model, a fine-tuning job's step and evaluation graphs, a
 * fine-tuned version's own layers when served, and an export.
 *
 * The weights come from a source:
 *   checkpoint  tensors baked in as initializers (the importer's attention kinds, int8 option);
 *   inputs      graph inputs, standard attention (training feeds the weights of the moment).
 * Inputs are named after the checkpoint's tensors: a linear layer's weight is
 * fed transposed, [in, out], as `<prefix>.weight.T` (what MatMul(x, W) reads
 * without a Transpose, and the initializer name the importer gives it), its
 * bias and the LayerNorm parameters as they are stored.
 */
import { DT, type GraphBuilder } from '../../onnx/graph.js';
import { maskBias, multiHeadAttention } from './attention.js';
import { quantizedLinear } from './quantize.js';
import type { Tensor } from './safetensors.js';

/** The config fields a layer reads (BertConfig has them). */
export interface LayerDims {
  hidden_size: number;
  num_attention_heads: number;
  intermediate_size: number;
  layer_norm_eps: number;
}

/**
 * How a layer's self-attention is written:
 *   fused       onnxruntime's com.microsoft.Attention: one packed fp32 QKV projection and one kernel per layer;
 *   multi-head  Q, K and V projected by the graph's own linear layers (quantized in the int8 graph), then
 *               onnxruntime's com.microsoft.MultiHeadAttention;
 *   standard    plain ONNX operators only (which onnxruntime's optimizer does not fuse for this pattern).
 */
export type AttentionKind = 'fused' | 'multi-head' | 'standard';

/** A checkpoint tensor by its name without any `bert.` prefix, checked against the shape the layer expects. */
export type TensorSource = (name: string, shape: number[]) => Tensor;

export type LayerWeights =
  | {
      from: 'checkpoint';
      tensor: TensorSource;
      attention: AttentionKind;
      /** Linear layers as int8 per output column (./quantize.ts); fused attention keeps its packed QKV fp32. */
      int8?: boolean;
    }
  | {
      from: 'inputs';
      /** Dropout mask inputs per layer (see DropoutMask), each multiplied in. */
      dropout?: boolean;
    };

export interface LayerStack {
  dims: LayerDims;
  /** The layers' indexes in the checkpoint, first and last included (0-based). */
  first: number;
  last: number;
  /** [B, T, H] state entering layer `first`. */
  input: string;
  /** [B, T, T] bool: query t may attend to key u. */
  attends: string;
  weights: LayerWeights;
  /** The name of layer i's output value, or undefined for a generated one. */
  outputName?: (layer: number) => string | undefined;
}

/** A weight the stack reads as a graph input: `input` holds checkpoint tensor `tensor`, transposed when `transposed`. */
export interface WeightInput {
  input: string;
  tensor: string;
  /** The input's dims: [in, out] for a transposed [out, in] weight. */
  dims: number[];
  transposed: boolean;
}

/**
 * A dropout mask input: multiplied into a layer's attention probabilities
 * ([B, heads, T, T]) or its attention or feed-forward output ([B, T, H],
 * before the residual sum), holding 0 (dropped) or 1/(1 − p) (kept).
 */
export interface DropoutMask {
  input: string;
  layer: number;
  site: 'attention' | 'attention_output' | 'output';
}

export interface StackValues {
  /** Each layer's output, first to last. */
  states: string[];
  /** With `from: 'inputs'`: every weight input, in declaration order. */
  weights: WeightInput[];
  /** With `from: 'inputs'` and `dropout`: every mask input, in declaration order. */
  dropout: DropoutMask[];
}

/** Checkpoint names of one layer's tensors (layer `i`), [out, in] for linear weights. */
export function layerTensorShapes(dims: LayerDims, i: number): Array<{ name: string; shape: number[] }> {
  const H = dims.hidden_size;
  const I = dims.intermediate_size;
  const p = `encoder.layer.${i}`;
  const linear = (prefix: string, out: number, inDim: number) => [
    { name: `${prefix}.weight`, shape: [out, inDim] },
    { name: `${prefix}.bias`, shape: [out] },
  ];
  const norm = (prefix: string) => [
    { name: `${prefix}.weight`, shape: [H] },
    { name: `${prefix}.bias`, shape: [H] },
  ];
  return [
    ...linear(`${p}.attention.self.query`, H, H),
    ...linear(`${p}.attention.self.key`, H, H),
    ...linear(`${p}.attention.self.value`, H, H),
    ...linear(`${p}.attention.output.dense`, H, H),
    ...norm(`${p}.attention.output.LayerNorm`),
    ...linear(`${p}.intermediate.dense`, I, H),
    ...linear(`${p}.output.dense`, H, I),
    ...norm(`${p}.output.LayerNorm`),
  ];
}

/** PyTorch stores Linear weights [out, in]; MatMul(x, W) wants [in, out]. The same loop transposes back. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

const transposed = (t: Tensor) => transpose(t.data, t.shape[0]!, t.shape[1]!);

/** Packs Wq, Wk, Wv ([out, in] each) into one [in, 3·out] matrix for the fused Attention op. */
function packQkv(q: Tensor, k: Tensor, v: Tensor): Float32Array {
  const [H] = q.shape as [number, number];
  const tq = transposed(q),
    tk = transposed(k),
    tv = transposed(v);
  const out = new Float32Array(H * 3 * H);
  for (let r = 0; r < H; r++) {
    out.set(tq.subarray(r * H, (r + 1) * H), r * 3 * H);
    out.set(tk.subarray(r * H, (r + 1) * H), r * 3 * H + H);
    out.set(tv.subarray(r * H, (r + 1) * H), r * 3 * H + 2 * H);
  }
  return out;
}

/** Adds the layers [first, last] to `g` (see the module header); the nodes and initializers come in a fixed order. */
export function addEncoderLayers(g: GraphBuilder, stack: LayerStack): StackValues {
  const { dims, weights } = stack;
  const H = dims.hidden_size;
  const heads = dims.num_attention_heads;
  const I = dims.intermediate_size;
  const eps = { float: dims.layer_norm_eps };
  const attention: AttentionKind = weights.from === 'checkpoint' ? weights.attention : 'standard';
  const int8 = weights.from === 'checkpoint' && weights.int8 === true;
  const dropout = weights.from === 'inputs' && weights.dropout === true;
  const weightInputs: WeightInput[] = [];
  const masks: DropoutMask[] = [];

  const get = (name: string, shape: number[]): Tensor => {
    if (weights.from !== 'checkpoint') throw new Error('addEncoderLayers: no checkpoint to read from');
    return weights.tensor(name, shape);
  };
  /** A bias or LayerNorm parameter, [n]. */
  const param = (name: string, shape: number[]): string => {
    if (weights.from === 'checkpoint') return g.float(name, shape, get(name, shape).data);
    weightInputs.push({ input: name, tensor: name, dims: shape, transposed: false });
    return g.input(name, DT.FLOAT, shape);
  };
  const linear = (x: string, prefix: string, inDim: number, outDim: number): string => {
    if (int8) {
      const weight = transposed(get(`${prefix}.weight`, [outDim, inDim]));
      return quantizedLinear(g, x, prefix, weight, get(`${prefix}.bias`, [outDim]).data, inDim, outDim);
    }
    const name = `${prefix}.weight.T`;
    let w: string;
    if (weights.from === 'checkpoint') w = g.float(name, [inDim, outDim], transposed(get(`${prefix}.weight`, [outDim, inDim])));
    else {
      weightInputs.push({ input: name, tensor: `${prefix}.weight`, dims: [inDim, outDim], transposed: true });
      w = g.input(name, DT.FLOAT, [inDim, outDim]);
    }
    return g.node('Add', [g.node('MatMul', [x, w]), param(`${prefix}.bias`, [outDim])]);
  };
  const layerNorm = (x: string, prefix: string, outputName?: string): string =>
    g.node('LayerNormalization', [x, param(`${prefix}.weight`, [H]), param(`${prefix}.bias`, [H])], { axis: -1, epsilon: eps }, '', outputName);
  const maskInput = (layer: number, site: DropoutMask['site']): string => {
    const input = `dropout.${layer}.${site}`;
    masks.push({ input, layer, site });
    const shape = site === 'attention' ? ['batch_size', heads, 'sequence_length', 'sequence_length'] : ['batch_size', 'sequence_length', H];
    return g.input(input, DT.FLOAT, shape);
  };
  const dropped = (x: string, layer: number, site: DropoutMask['site']): string => (dropout ? g.node('Mul', [x, maskInput(layer, site)]) : x);

  // The mask, built once: a raw [B, T, T] int32 1/0 mask for the fused Attention, else an
  // additive [B, 1, T, T] bias, 0 where attended and MASK_BIAS elsewhere.
  let maskIndex = '';
  let bias = '';
  if (attention === 'fused') {
    g.useDomain('com.microsoft', 1);
    maskIndex = g.node('Cast', [stack.attends], { to: DT.INT32 });
  } else {
    if (attention === 'multi-head') g.useDomain('com.microsoft', 1);
    bias = maskBias(g, stack.attends);
  }

  let hidden = stack.input;
  const projections = (a: string) => ({ q: linear(hidden, `${a}.query`, H, H), k: linear(hidden, `${a}.key`, H, H), v: linear(hidden, `${a}.value`, H, H) });
  const selfAttention = (layer: number): string => {
    const a = `encoder.layer.${layer}.attention.self`;
    if (attention === 'standard') {
      const probabilities = dropout ? (p: string) => g.node('Mul', [p, maskInput(layer, 'attention')]) : undefined;
      return multiHeadAttention(g, projections(a), bias, heads, H, undefined, probabilities);
    }
    if (attention === 'multi-head') {
      const { q, k, v } = projections(a);
      return g.node('MultiHeadAttention', [q, k, v, '', '', bias], { num_heads: heads }, 'com.microsoft');
    }
    const w = packQkv(get(`${a}.query.weight`, [H, H]), get(`${a}.key.weight`, [H, H]), get(`${a}.value.weight`, [H, H]));
    const b = new Float32Array(3 * H);
    b.set(get(`${a}.query.bias`, [H]).data, 0);
    b.set(get(`${a}.key.bias`, [H]).data, H);
    b.set(get(`${a}.value.bias`, [H]).data, 2 * H);
    return g.node(
      'Attention',
      [hidden, g.float(`${a}.qkv.weight`, [H, 3 * H], w), g.float(`${a}.qkv.bias`, [3 * H], b), maskIndex],
      { num_heads: heads },
      'com.microsoft',
    );
  };

  const states: string[] = [];
  for (let i = stack.first; i <= stack.last; i++) {
    const p = `encoder.layer.${i}`;
    const merged = selfAttention(i);
    const projected = dropped(linear(merged, `${p}.attention.output.dense`, H, H), i, 'attention_output');
    const attended = layerNorm(g.node('Add', [projected, hidden]), `${p}.attention.output.LayerNorm`);
    // Exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)), in the order exporters write it so ORT fuses it.
    const pre = linear(attended, `${p}.intermediate.dense`, H, I);
    const erf = g.node('Erf', [g.node('Div', [pre, g.scalar(Math.SQRT2)])]);
    const gelu = g.node('Mul', [g.node('Mul', [pre, g.node('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
    const output = dropped(linear(gelu, `${p}.output.dense`, I, H), i, 'output');
    hidden = layerNorm(g.node('Add', [output, attended]), `${p}.output.LayerNorm`, stack.outputName?.(i));
    states.push(hidden);
  }
  return { states, weights: weightInputs, dropout: masks };
}
