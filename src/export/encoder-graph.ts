/**
 * The imported encoder's graph, made ready for an export: decoded as it is,
 * its token type ids fixed to a single segment (the service never sends
 * another), its outputs forgotten (the export names its own), and, unless
 * asked to keep it, onnxruntime's contrib operators rewritten as plain ONNX
 * operators, so that the file runs on any ONNX runtime: EmbedLayerNormalization
 * (both), the fused Attention (fp32 imports), MultiHeadAttention and
 * DynamicQuantizeMatMul (int8 imports).
 */
import onnxProto from 'onnx-proto';
import { maskBias, multiHeadAttention } from '../encoder/import/attention.js';
import { standardEmbeddings } from '../encoder/import/embeddings.js';
import type { ModelManifest } from '../encoder/manifest.js';
import { DT, GraphBuilder, intOf, type NodeProto } from '../onnx/graph.js';

/** `portable`: plain ONNX operators only; `as-imported`: the graph's own (the fused kernel runs on onnxruntime alone). */
export type AttentionMode = 'portable' | 'as-imported';

/** Names the export's own nodes take, apart from the imported graph's. */
const PREFIX = 'export/';

export function encoderGraph(modelBytes: Uint8Array, manifest: ModelManifest, attention: AttentionMode): GraphBuilder {
  const g = GraphBuilder.extend(onnxProto.onnx.ModelProto.decode(modelBytes), PREFIX);
  const nodes = g.takeNodes();
  if (g.inputNames.includes('token_type_ids')) {
    g.removeInput('token_type_ids');
    // Zeros of input_ids' shape, first: every node that reads token_type_ids comes after it.
    g.node('Mul', ['input_ids', g.int(0)], {}, '', 'token_type_ids');
  }
  const biases = new Map<string, string>();
  for (const n of nodes) {
    const contrib = attention === 'portable' && n.domain === 'com.microsoft';
    if (contrib && n.opType === 'EmbedLayerNormalization') standardEmbedLayerNorm(g, n);
    else if (contrib && n.opType === 'Attention') standardAttention(g, n, manifest, biases);
    else if (contrib && n.opType === 'MultiHeadAttention') standardMultiHead(g, n, manifest, biases);
    else if (contrib && n.opType === 'DynamicQuantizeMatMul') standardQuantizedMatMul(g, n);
    else g.append(n);
  }
  g.clearOutputs();
  return g;
}

/**
 * The importer's EmbedLayerNormalization node (int32 ids and token types, word,
 * position and token type tables, gamma, beta, no mask, int32 position ids;
 * epsilon) as the plain operators its `standard` embeddings write. Its
 * mask_index output is not rewritten: nothing in the importer's graph reads it.
 */
function standardEmbedLayerNorm(g: GraphBuilder, n: NodeProto): void {
  const inputs = n.input ?? [];
  const [inputIds, tokenTypeIds, word, position, tokenType, gamma, beta, mask, positionIds] = inputs;
  const attrs = new Map((n.attribute ?? []).map((a) => [a.name, a]));
  if (inputs.length !== 9 || mask || inputs.some((i, k) => k !== 7 && !i) || attrs.size !== 1 || !attrs.has('epsilon')) {
    throw new Error(
      `${n.name}: only the importer's EmbedLayerNormalization (ids, token types, three tables, gamma, beta, position ids; epsilon) can be rewritten`,
    );
  }
  const epsilon = attrs.get('epsilon')!.f ?? 0;
  standardEmbeddings(
    g,
    {
      inputIds: inputIds!,
      tokenTypeIds: tokenTypeIds!,
      positionIds: positionIds!,
      word: word!,
      position: position!,
      tokenType: tokenType!,
      gamma: gamma!,
      beta: beta!,
      epsilon,
    },
    n.output?.[0] ?? undefined,
  );
}

/**
 * The importer's fused Attention node (input, packed QKV weight [H, 3H],
 * bias [3H], raw [B, T, T] mask; num_heads) as the plain operators its
 * `standard` mode writes. `biases` keeps the additive mask bias built for
 * each mask, so the layers share it.
 */
function standardAttention(g: GraphBuilder, n: NodeProto, manifest: ModelManifest, biases: Map<string, string>): void {
  const hidden = manifest.hiddenSize;
  const [x, weight, bias, mask] = n.input ?? [];
  const attrs = new Map((n.attribute ?? []).map((a) => [a.name, a]));
  if (!x || !weight || !bias || !mask || (n.input ?? []).length !== 4 || attrs.size !== 1 || !attrs.has('num_heads')) {
    throw new Error(`${n.name}: only the importer's Attention (input, weights, bias, mask; num_heads) can be rewritten`);
  }
  const heads = intOf(attrs.get('num_heads')!.i);
  const qkv = g.node('Add', [g.node('MatMul', [x, weight]), bias]);
  const part = (i: number) => g.node('Slice', [qkv, g.ints([i * hidden]), g.ints([(i + 1) * hidden]), g.ints([2])]);
  multiHeadAttention(g, { q: part(0), k: part(1), v: part(2) }, sharedMaskBias(g, mask, manifest, biases), heads, hidden, n.output?.[0] ?? undefined);
}

/**
 * The additive bias of `mask`, built once and shared by the layers. Imports
 * before importer version 3 (no `packedRows`) pass a [B, T] key mask, not
 * a [B, T, T] one: it is widened to [B, 1, T] first.
 */
function sharedMaskBias(g: GraphBuilder, mask: string, manifest: ModelManifest, biases: Map<string, string>): string {
  let bias = biases.get(mask);
  if (!bias) {
    bias = maskBias(g, manifest.packedRows ? mask : g.node('Unsqueeze', [mask, g.ints([1])]));
    biases.set(mask, bias);
  }
  return bias;
}

/**
 * The importer's MultiHeadAttention node (projected q, k, v, no bias; num_heads) as plain operators: with an
 * additive [B, 1, T, T] attention bias, or (imports before importer version 3) a raw [B, T] key mask.
 */
function standardMultiHead(g: GraphBuilder, n: NodeProto, manifest: ModelManifest, biases: Map<string, string>): void {
  const [q, k, v, bias, keyMask, attentionBias] = n.input ?? [];
  const attrs = new Map((n.attribute ?? []).map((a) => [a.name, a]));
  const masked = keyMask ? !attentionBias && n.input!.length === 5 : attentionBias && n.input!.length === 6;
  if (!q || !k || !v || bias || !masked || attrs.size !== 1 || !attrs.has('num_heads')) {
    throw new Error(`${n.name}: only the importer's MultiHeadAttention (q, k, v, key mask or attention bias; num_heads) can be rewritten`);
  }
  const additive = keyMask ? sharedMaskBias(g, keyMask, manifest, biases) : attentionBias!;
  multiHeadAttention(g, { q, k, v }, additive, intOf(attrs.get('num_heads')!.i), manifest.hiddenSize, n.output?.[0] ?? undefined);
}

/**
 * DynamicQuantizeMatMul (x, int8 weights, per-column scales, no zero point,
 * bias) as the standard operators it stands for: x quantized to uint8 with
 * its own scale and zero point, an integer product, and the int32 result
 * scaled back to float (x's scale times each column's), bias added.
 */
function standardQuantizedMatMul(g: GraphBuilder, n: NodeProto): void {
  const [x, weight, scale, zeroPoint, bias] = n.input ?? [];
  if (!x || !weight || !scale || zeroPoint || !bias || (n.attribute ?? []).length) {
    throw new Error(`${n.name}: only the importer's DynamicQuantizeMatMul (x, weights, scales, no zero point, bias) can be rewritten`);
  }
  const [xq, xScale, xZeroPoint] = g.nodeWithOutputs('DynamicQuantizeLinear', [x], 3) as [string, string, string];
  const product = g.node('Cast', [g.node('MatMulInteger', [xq, weight, xZeroPoint])], { to: DT.FLOAT });
  g.node('Add', [g.node('Mul', [product, g.node('Mul', [xScale, scale])]), bias], {}, '', n.output?.[0] ?? undefined);
}
