/**
 * Builds the ONNX graph of a BERT-family encoder that exposes every hidden state.
 *
 * Outputs: `last_hidden_state` and `hidden_states.0` (the embedding output) to
 * `hidden_states.L` (the output of encoder layer L), all [batch, sequence, hidden].
 * Asking for any layer, or several, therefore costs one forward pass.
 */
import { DT, GraphBuilder } from '../../onnx/graph.js';
import { hiddenStateName } from '../manifest.js';
import { sequenceMask } from './attention.js';
import { type EmbeddingInputs, fusedEmbeddings, standardEmbeddings } from './embeddings.js';
import { type AttentionKind, addEncoderLayers, type TensorSource } from './layer-stack.js';
import type { Tensor } from './safetensors.js';

export type { AttentionKind } from './layer-stack.js';

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

/** Looks a tensor up with or without the `bert.` prefix some checkpoints carry, checking its shape. */
export function tensorGetter(tensors: Map<string, Tensor>): TensorSource {
  return (name: string, shape: number[]): Tensor => {
    const t = tensors.get(name) ?? tensors.get(`bert.${name}`);
    if (!t) throw new Error(`checkpoint has no tensor "${name}"`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
    }
    return t;
  };
}

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

export function buildBertGraph(config: BertConfig, tensors: Map<string, Tensor>, options: GraphOptions = {}): Uint8Array {
  const H = config.hidden_size;
  const get = tensorGetter(tensors);
  const g = new GraphBuilder('bert_all_hidden_states', 17);

  const dims = ['batch_size', 'sequence_length'];
  const inputIds = g.input('input_ids', DT.INT64, dims);
  const attentionMask = g.input('attention_mask', DT.INT64, dims);
  const tokenTypeIds = g.input('token_type_ids', DT.INT64, dims);

  const param = (name: string, shape: number[]) => g.float(name, shape, get(name, shape).data);
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
  const embedded = embed(g, embeddingInputs, hiddenStateName(0));
  const { states } = addEncoderLayers(g, {
    dims: config,
    first: 0,
    last: config.num_hidden_layers - 1,
    input: embedded,
    attends: sequences.attends,
    weights: { from: 'checkpoint', tensor: get, attention: options.attention ?? 'standard', int8: options.int8 === true },
    outputName: (layer) => hiddenStateName(layer + 1),
  });
  const hidden = states[states.length - 1] ?? embedded;

  const outDims = ['batch_size', 'sequence_length', H];
  for (const [layer, s] of [embedded, ...states].entries()) g.output(hiddenStateName(layer), s, DT.FLOAT, outDims);
  g.output('last_hidden_state', hidden, DT.FLOAT, outDims);
  return g.encode('transferd-importer');
}
