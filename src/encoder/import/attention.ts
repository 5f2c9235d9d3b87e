/**
 * BERT self-attention in plain ONNX operators, for graphs that must run on
 * any ONNX runtime: the importer's `standard` attention, and an exported
 * version's encoder (which rewrites onnxruntime's fused Attention into this).
 */
import { DT, type GraphBuilder } from '../../onnx/graph.js';

/** The additive attention bias for padded keys: the most negative finite fp32, as transformers does. */
export const MASK_BIAS = -3.4028234663852886e38;

/**
 * What a [B, T] `attention_mask` of sequence numbers means, in graph form.
 * Each row of a batch may hold several sequences one after another: the mask
 * is 0 on padding and k on the tokens of the row's k-th sequence, so a 1/0
 * mask is the usual one sequence a row. A token attends to the tokens of its
 * own sequence only, and its position restarts at 0 with every sequence.
 *   attends    [B, T, T] bool: query t may attend to key u;
 *   positions  [B, T] int64: each token's position within its sequence (0 on padding).
 */
export function sequenceMask(g: GraphBuilder, mask: string): { attends: string; positions: string } {
  const same = g.node('Equal', [g.node('Unsqueeze', [mask, g.ints([2])]), g.node('Unsqueeze', [mask, g.ints([1])])]);
  const attends = g.node('And', [same, g.node('Greater', [g.node('Unsqueeze', [mask, g.ints([1])]), g.int(0)])]);
  // A token's position is the number of its own sequence's tokens before it: the strictly lower triangle, summed.
  const before = g.node('Trilu', [g.node('Cast', [attends], { to: DT.INT64 }), g.int(-1)], { upper: 0 });
  return { attends, positions: g.node('ReduceSum', [before, g.ints([-1])], { keepdims: 0 }) };
}

/** The [B, 1, T, T] additive bias of a [B, T, T] 1/0 mask (any numeric type): 0 where attended, MASK_BIAS elsewhere. */
export function maskBias(g: GraphBuilder, mask: string): string {
  const maskF = g.node('Cast', [g.node('Unsqueeze', [mask, g.ints([1])])], { to: DT.FLOAT });
  return g.node('Mul', [g.node('Sub', [g.scalar(1), maskF]), g.scalar(MASK_BIAS)]);
}

/**
 * softmax(q·kᵀ / √d + bias)·v per head, heads merged back: q, k and v are the
 * projected [B, T, hidden] queries, keys and values; the result is [B, T, hidden].
 * `probabilities`, when given, rewrites the [B, heads, T, T] attention
 * probabilities before they weigh the values (a training graph's dropout).
 */
export function multiHeadAttention(
  g: GraphBuilder,
  qkv: { q: string; k: string; v: string },
  bias: string,
  heads: number,
  hidden: number,
  outputName?: string,
  probabilities?: (p: string) => string,
): string {
  const headSize = hidden / heads;
  const splitHeads = g.ints([0, 0, heads, headSize]);
  const q = g.node('Transpose', [g.node('Reshape', [qkv.q, splitHeads])], { perm: [0, 2, 1, 3] });
  const k = g.node('Transpose', [g.node('Reshape', [qkv.k, splitHeads])], { perm: [0, 2, 3, 1] });
  const v = g.node('Transpose', [g.node('Reshape', [qkv.v, splitHeads])], { perm: [0, 2, 1, 3] });
  const scores = g.node('Add', [g.node('Div', [g.node('MatMul', [q, k]), g.scalar(Math.sqrt(headSize))]), bias]);
  const softmax = g.node('Softmax', [scores], { axis: -1 });
  const context = g.node('MatMul', [probabilities ? probabilities(softmax) : softmax, v]);
  return g.node('Reshape', [g.node('Transpose', [context], { perm: [0, 2, 1, 3] }), g.ints([0, 0, hidden])], {}, '', outputName);
}
