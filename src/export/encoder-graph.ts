/**
 * The imported encoder's graph, made ready for an export: decoded as it is,
 * its token type ids fixed to a single segment (the service never sends
 * another), its outputs forgotten (the export names its own), and, unless
 * asked to keep it, onnxruntime's fused com.microsoft.Attention rewritten as
 * plain ONNX operators, so that the file runs on any ONNX runtime.
 */
import onnxProto from 'onnx-proto';
import { maskBias, multiHeadAttention } from '../encoder/import/attention.js';
import type { ModelManifest } from '../encoder/manifest.js';
import { GraphBuilder, intOf, type NodeProto } from '../onnx/graph.js';

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
    if (attention === 'portable' && n.opType === 'Attention' && n.domain === 'com.microsoft') standardAttention(g, n, manifest.hiddenSize, biases);
    else g.append(n);
  }
  g.clearOutputs();
  return g;
}

/**
 * The importer's fused Attention node (input, packed QKV weight [H, 3H],
 * bias [3H], raw [B, T] mask; num_heads) as the plain operators its
 * `standard` mode writes. `biases` keeps the additive mask bias built for
 * each mask, so the layers share it.
 */
function standardAttention(g: GraphBuilder, n: NodeProto, hidden: number, biases: Map<string, string>): void {
  const [x, weight, bias, mask] = n.input ?? [];
  const attrs = new Map((n.attribute ?? []).map((a) => [a.name, a]));
  if (!x || !weight || !bias || !mask || (n.input ?? []).length !== 4 || attrs.size !== 1 || !attrs.has('num_heads')) {
    throw new Error(`${n.name}: only the importer's Attention (input, weights, bias, mask; num_heads) can be rewritten`);
  }
  const heads = intOf(attrs.get('num_heads')!.i);
  const qkv = g.node('Add', [g.node('MatMul', [x, weight]), bias]);
  const part = (i: number) => g.node('Slice', [qkv, g.ints([i * hidden]), g.ints([(i + 1) * hidden]), g.ints([2])]);
  let maskBiasOf = biases.get(mask);
  if (!maskBiasOf) {
    maskBiasOf = maskBias(g, mask);
    biases.set(mask, maskBiasOf);
  }
  multiHeadAttention(g, { q: part(0), k: part(1), v: part(2) }, maskBiasOf, heads, hidden, n.output?.[0] ?? undefined);
}
