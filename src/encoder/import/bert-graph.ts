/**
 * Builds the ONNX graph of a BERT-family encoder that exposes every hidden state.
 *
 * Outputs: `last_hidden_state` and `hidden_states.0` (the embedding output) to
 * `hidden_states.L` (the output of encoder layer L), all [batch, sequence, hidden].
 * Asking for any layer, or several, therefore costs one forward pass.
 */
import { DT, GraphBuilder } from '../../onnx/graph.js';
import { hiddenStateName } from '../manifest.js';
import { maskBias as maskBiasOf, multiHeadAttention, sequenceMask } from './attention.js';
import { type EmbeddingInputs, fusedEmbeddings, standardEmbeddings } from './embeddings.js';
import { quantizedLinear } from './quantize.js';
import type { Tensor } from './safetensors.js';

export interface BertConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  layer_norm_eps: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  vocab_size: number;
  hidden_act?: string;
  position_embedding_type?: string;
}

/** Validates the parts of config.json the graph depends on. */
export function checkBertConfig(config: Record<string, unknown>): BertConfig {
  const need = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'vocab_size'];
  for (const key of need) {
    if (typeof config[key] !== 'number') throw new Error(`config.json: "${key}" must be a number`);
  }
  const act = config.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw new Error(`config.json: hidden_act "${String(act)}" is not supported (only the exact erf GELU)`);
  const pos = config.position_embedding_type ?? 'absolute';
  if (pos !== 'absolute') throw new Error(`config.json: position_embedding_type "${String(pos)}" is not supported`);
  const c = config as unknown as BertConfig;
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw new Error(`config.json: hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`);
  }
  return { ...c, layer_norm_eps: typeof config.layer_norm_eps === 'number' ? (config.layer_norm_eps as number) : 1e-12 };
}

/** Looks a tensor up with or without the `bert.` prefix some checkpoints carry. */
function tensorGetter(tensors: Map<string, Tensor>) {
  return (name: string, shape: number[]): Tensor => {
    const t = tensors.get(name) ?? tensors.get(`bert.${name}`);
    if (!t) throw new Error(`checkpoint has no tensor "${name}"`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
    }
    return t;
  };
}

/** PyTorch stores Linear weights [out, in]; MatMul(x, W) wants [in, out]. */
function transpose(t: Tensor): Float32Array {
  const [rows, cols] = t.shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c]!;
  return out;
}

/**
 * How a layer's self-attention is written:
 *   fused       onnxruntime's com.microsoft.Attention: one packed fp32 QKV projection and one kernel per layer;
 *   multi-head  Q, K and V projected by the graph's own linear layers (quantized in the int8 graph), then
 *               onnxruntime's com.microsoft.MultiHeadAttention;
 *   standard    plain ONNX operators only (which onnxruntime's optimizer does not fuse for this pattern).
 */
export type AttentionKind = 'fused' | 'multi-head' | 'standard';

export interface GraphOptions {
  /** Default `standard`. */
  attention?: AttentionKind;
  /**
   * Linear layers' weights as int8 per output column, run by onnxruntime's
   * DynamicQuantizeMatMul (./quantize.ts); embeddings, LayerNorm, softmax,
   * GELU and biases stay fp32. Fused attention keeps its packed QKV
   * projection fp32 (the Attention op takes float weights only).
   */
  int8?: boolean;
  /** Default `standard`. */
  embeddings?: EmbeddingsKind;
}

/**
 * How hidden state 0 (word + position + token type embeddings, then LayerNorm) is written:
 *   standard  Gather, Add and LayerNormalization (what imports write);
 *   fused     onnxruntime's com.microsoft.EmbedLayerNormalization, which its optimizer does not make from
 *             this graph: kept for `bench:embed -- --fusions-only`, not used since it is no faster
 *             (docs/models.md).
 */
export type EmbeddingsKind = 'fused' | 'standard';

/** Packs Wq, Wk, Wv ([out, in] each) into one [in, 3·out] matrix for the fused Attention op. */
function packQkv(q: Tensor, k: Tensor, v: Tensor): Float32Array {
  const [H] = q.shape as [number, number];
  const tq = transpose(q),
    tk = transpose(k),
    tv = transpose(v);
  const out = new Float32Array(H * 3 * H);
  for (let r = 0; r < H; r++) {
    out.set(tq.subarray(r * H, (r + 1) * H), r * 3 * H);
    out.set(tk.subarray(r * H, (r + 1) * H), r * 3 * H + H);
    out.set(tv.subarray(r * H, (r + 1) * H), r * 3 * H + 2 * H);
  }
  return out;
}

export function buildBertGraph(config: BertConfig, tensors: Map<string, Tensor>, options: GraphOptions = {}): Uint8Array {
  const H = config.hidden_size;
  const heads = config.num_attention_heads;
  const I = config.intermediate_size;
  const eps = { float: config.layer_norm_eps };
  const get = tensorGetter(tensors);
  const g = new GraphBuilder('bert_all_hidden_states', 17);

  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', DT.INT64, dims);
  const attentionMask = g.input('attention_mask', DT.INT64, dims);
  const tokenTypeIds = g.input('token_type_ids', DT.INT64, dims);

  const param = (name: string, shape: number[]) => g.float(name, shape, get(name, shape).data);
  const linear = (x: string, prefix: string, inDim: number, outDim: number): string => {
    if (options.int8) {
      const weight = transpose(get(`${prefix}.weight`, [outDim, inDim]));
      return quantizedLinear(g, x, prefix, weight, get(`${prefix}.bias`, [outDim]).data, inDim, outDim);
    }
    const w = g.float(`${prefix}.weight.T`, [inDim, outDim], transpose(get(`${prefix}.weight`, [outDim, inDim])));
    return g.node('Add', [g.node('MatMul', [x, w]), param(`${prefix}.bias`, [outDim])]);
  };
  const layerNorm = (x: string, prefix: string, outputName?: string): string =>
    g.node('LayerNormalization', [x, param(`${prefix}.weight`, [H]), param(`${prefix}.bias`, [H])], { axis: -1, epsilon: eps }, '', outputName);

  const attention = options.attention ?? 'standard';
  const sequences = sequenceMask(g, attentionMask);
  const embeddingInputs: EmbeddingInputs = {
    inputIds,
    positionIds: sequences.positions,
    tokenTypeIds,
    word: param('embeddings.word_embeddings.weight', [config.vocab_size, H]),
    position: param('embeddings.position_embeddings.weight', [config.max_position_embeddings, H]),
    tokenType: param('embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]),
    gamma: param('embeddings.LayerNorm.weight', [H]),
    beta: param('embeddings.LayerNorm.bias', [H]),
    epsilon: config.layer_norm_eps,
  };
  const embed = options.embeddings === 'fused' ? fusedEmbeddings : standardEmbeddings;
  let hidden = embed(g, embeddingInputs, hiddenStateName(0));
  const states = [hidden];

  const projections = (a: string) => ({ q: linear(hidden, `${a}.query`, H, H), k: linear(hidden, `${a}.key`, H, H), v: linear(hidden, `${a}.value`, H, H) });
  // The mask, built once: a raw [B, T, T] int32 1/0 mask for the fused Attention, else an
  // additive [B, 1, T, T] bias, 0 where attended and MASK_BIAS elsewhere.
  let maskIndex = '';
  let maskBias = '';
  if (attention === 'fused') {
    g.useDomain('com.microsoft', 1);
    maskIndex = g.node('Cast', [sequences.attends], { to: DT.INT32 });
  } else {
    if (attention === 'multi-head') g.useDomain('com.microsoft', 1);
    maskBias = maskBiasOf(g, sequences.attends);
  }
  const selfAttention = (p: string): string => {
    const a = `${p}.attention.self`;
    if (attention === 'standard') return multiHeadAttention(g, projections(a), maskBias, heads, H);
    if (attention === 'multi-head') {
      const { q, k, v } = projections(a);
      return g.node('MultiHeadAttention', [q, k, v, '', '', maskBias], { num_heads: heads }, 'com.microsoft');
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
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `encoder.layer.${i}`;
    const merged = selfAttention(p);
    const attended = layerNorm(g.node('Add', [linear(merged, `${p}.attention.output.dense`, H, H), hidden]), `${p}.attention.output.LayerNorm`);
    // Exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)), in the order exporters write it so ORT fuses it.
    const pre = linear(attended, `${p}.intermediate.dense`, H, I);
    const erf = g.node('Erf', [g.node('Div', [pre, g.scalar(Math.SQRT2)])]);
    const gelu = g.node('Mul', [g.node('Mul', [pre, g.node('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
    hidden = layerNorm(g.node('Add', [linear(gelu, `${p}.output.dense`, I, H), attended]), `${p}.output.LayerNorm`, hiddenStateName(i + 1));
    states.push(hidden);
  }

  const outDims = ['batch_size', 'sequence_length', H];
  for (const [layer, s] of states.entries()) g.output(hiddenStateName(layer), s, DT.FLOAT, outDims);
  g.output('last_hidden_state', hidden, DT.FLOAT, outDims);
  return g.encode('transferd-importer');
}
