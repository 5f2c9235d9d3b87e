/**
 * Hidden state 0: LayerNorm(word[input_ids] + position[position_ids] + token_type[token_type_ids]),
 * written as plain ONNX operators or as onnxruntime's EmbedLayerNormalization.
 * The export (../../export/encoder-graph.ts) rewrites the fused node into the
 * plain form, so both live here.
 */
import { DT, type GraphBuilder } from '../../onnx/graph.js';

export interface EmbeddingInputs {
  /** [B, T] token ids (int64 or int32). */
  inputIds: string;
  /** [B, T] token type (segment) ids, same type as inputIds. */
  tokenTypeIds: string;
  /** [B, T] each token's position within its sequence (int64 or int32; see sequenceMask in ./attention.ts). */
  positionIds: string;
  /** [vocab, H], [max positions, H], [type vocab, H] tables. */
  word: string;
  position: string;
  tokenType: string;
  /** The LayerNorm's [H] scale and shift. */
  gamma: string;
  beta: string;
  epsilon: number;
}

/** Gathers, sums and normalises in plain operators. */
export function standardEmbeddings(g: GraphBuilder, e: EmbeddingInputs, outputName?: string): string {
  const words = g.node('Gather', [e.word, e.inputIds]);
  const positions = g.node('Gather', [e.position, e.positionIds]);
  const types = g.node('Gather', [e.tokenType, e.tokenTypeIds]);
  const sum = g.node('Add', [g.node('Add', [words, positions]), types]);
  return g.node('LayerNormalization', [sum, e.gamma, e.beta], { axis: -1, epsilon: { float: e.epsilon } }, '', outputName);
}

/**
 * One com.microsoft.EmbedLayerNormalization node. It takes int32 ids and
 * positions only (position_ids is its input 8). Its mask input is left out: the
 * attention kernels read the raw mask, not the per-row count (mask_index) this
 * op would compute; mask_index is declared all the same (without it onnxruntime
 * refuses the node at load: its type inference wants output 1) and read by nothing.
 */
export function fusedEmbeddings(g: GraphBuilder, e: EmbeddingInputs, outputName: string): string {
  g.useDomain('com.microsoft', 1);
  const int32 = (x: string) => g.node('Cast', [x], { to: DT.INT32 });
  const inputs = [int32(e.inputIds), int32(e.tokenTypeIds), e.word, e.position, e.tokenType, e.gamma, e.beta, '', int32(e.positionIds)];
  return g.nodeWithOutputs('EmbedLayerNormalization', inputs, [outputName, `${outputName}.mask_index`], { epsilon: { float: e.epsilon } }, 'com.microsoft')[0]!;
}
