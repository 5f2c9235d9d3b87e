/**
 * BERT self-attention in plain ONNX operators, for graphs that must run on
 * any ONNX runtime: the importer's `standard` attention, and an exported
 * version's encoder (which rewrites onnxruntime's fused Attention into this).
 */
import { DT, type GraphBuilder } from '../../onnx/graph.js';

/** The additive attention bias for padded keys: the most negative finite fp32, as transformers does. */
export const MASK_BIAS = -3.4028234663852886e38;

/** The [B, 1, 1, T] additive bias of a [B, T] 1/0 mask (any numeric type): 0 where attended, MASK_BIAS where padded. */
export function maskBias(g: GraphBuilder, mask: string): string {
  const maskF = g.node('Cast', [g.node('Unsqueeze', [mask, g.ints([1, 2])])], { to: DT.FLOAT });
  return g.node('Mul', [g.node('Sub', [g.scalar(1), maskF]), g.scalar(MASK_BIAS)]);
}

/**
 * softmax(q·kᵀ / √d + bias)·v per head, heads merged back: q, k and v are the
 * projected [B, T, hidden] queries, keys and values; the result is [B, T, hidden].
 */
export function multiHeadAttention(
  g: GraphBuilder,
  qkv: { q: string; k: string; v: string },
  bias: string,
  heads: number,
  hidden: number,
  outputName?: string,
): string {
  const headSize = hidden / heads;
  const splitHeads = g.ints([0, 0, heads, headSize]);
  const q = g.node('Transpose', [g.node('Reshape', [qkv.q, splitHeads])], { perm: [0, 2, 1, 3] });
  const k = g.node('Transpose', [g.node('Reshape', [qkv.k, splitHeads])], { perm: [0, 2, 3, 1] });
  const v = g.node('Transpose', [g.node('Reshape', [qkv.v, splitHeads])], { perm: [0, 2, 1, 3] });
  const scores = g.node('Add', [g.node('Div', [g.node('MatMul', [q, k]), g.scalar(Math.sqrt(headSize))]), bias]);
  const context = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]);
  return g.node('Reshape', [g.node('Transpose', [context], { perm: [0, 2, 1, 3] }), g.ints([0, 0, hidden])], {}, '', outputName);
}
