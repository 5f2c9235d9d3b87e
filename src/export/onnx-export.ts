/**
 * A version as one ONNX model: token ids in, the service's probabilities
 * out. The imported encoder's graph (./encoder-graph.ts), a fine-tuned
 * version's tuned layers in place of the frozen ones (./tuned-layers.ts), the
 * version's feature spec (./features.ts), then its head, added by the head
 * type's own export (`HeadDefinition.onnx`, in heads/<type>/onnx.ts) inside
 * whatever a multi-label version wraps it in; whatever the outputs do not
 * need (later layers, other hidden states) is dropped.
 *
 *   inputs   input_ids, attention_mask    int64 [batch, sequence]
 *   outputs  probabilities                float32 [batch, labels], columns in the version's label order
 *            label                        int64 [batch], the most probable column (single-label versions)
 *            predicted                    bool [batch, labels], probability ≥ the label's threshold (multi-label)
 *   metadata labels (JSON array), task, version, head_type, feature_spec (JSON), model, max_tokens,
 *            and thresholds (JSON array) for multi-label versions
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FeatureSpec, specToJson } from '../encoder/feature-spec.js';
import { hiddenStateName, type ModelManifest } from '../encoder/manifest.js';
import type { TunedStack } from '../encoder/tuned-stack.js';
import { blendExport } from '../heads/blend.js';
import { DomainError } from '../errors.js';
import { FINE_TUNE_HEAD, FINE_TUNED_CLASSIFIER, fineTunedHead } from '../heads/fine-tuned.js';
import type { OnnxHeadExport, OnnxHeadInput } from '../heads/head.js';
import type { OneVsRestArtifact } from '../heads/one-vs-rest.js';
import { HEADS, headOf, type MultiLabelArtifact } from '../heads/registry.js';
import { DT } from '../onnx/graph.js';
import { type AttentionMode, encoderGraph } from './encoder-graph.js';
import { featureNodes } from './features.js';
import { tunedLayersInPlace } from './tuned-layers.js';

/** The formats a version exports to. */
export const EXPORT_FORMATS = ['onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface OnnxExportSource {
  /** The imported model's folder (onnx/model.onnx) and manifest. */
  modelDir: string;
  manifest: ModelManifest;
  spec: FeatureSpec;
  labels: string[];
  headType: string;
  artifact: unknown;
  /** Recorded in the file's metadata. */
  task: string;
  version: number;
  /** Default `portable`. */
  attention?: AttentionMode;
  /** A fine-tuned version's stack (its spec has `tuned`). */
  tunedStack?: TunedStack;
}

/** The ONNX export of head type `headType`, to be imported; a DomainError when the head type has none. */
export function onnxExportOf(headType: string): () => Promise<OnnxHeadExport> {
  // A fine-tuned version's classifier is stored as logistic regression stores its head: that head type exports it.
  const head = headType === FINE_TUNE_HEAD ? HEADS.find((h) => h.format === FINE_TUNED_CLASSIFIER) : headOf(headType);
  const hook = head?.onnx;
  if (!hook) throw new DomainError('export_unsupported', `${headType} heads cannot be exported to ONNX (yet); the service still predicts with them`, 'version');
  return hook;
}

export async function buildOnnxExport(source: OnnxExportSource): Promise<Uint8Array> {
  const { manifest, spec, labels } = source;
  if (spec.model !== manifest.name) throw new Error(`the version's features come from ${spec.model}, not ${manifest.name}`);
  const format = (source.artifact as { format?: string } | null)?.format;
  const headExport =
    format === 'blend' ? blendExport(await onnxExportOf(source.headType)(), await onnxExportOf('prototype')()) : await onnxExportOf(source.headType)();
  const attention = source.attention ?? 'portable';
  const g = encoderGraph(readFileSync(join(source.modelDir, 'onnx', 'model.onnx')), manifest, attention);
  let stateOf = hiddenStateName;
  if (spec.tuned) {
    const stack = source.tunedStack;
    if (!stack || stack.first !== spec.tuned.first) throw new Error("a fine-tuned version's export needs its tuned stack");
    const tuned = tunedLayersInPlace(g, source.modelDir, manifest, stack, attention);
    stateOf = (layer) => (layer === stack.last + 1 ? tuned : hiddenStateName(layer));
  }
  const { features, dim } = featureNodes(g, spec, manifest.hiddenSize, 'attention_mask', stateOf);
  const artifact = fineTunedHead(source.artifact) ?? source.artifact;
  const head = headProbabilities(headExport, artifact, { graph: g, features, dim, classes: labels.length, prefix: 'head/' });
  const rows = ['batch_size', labels.length];
  g.output('probabilities', head.probabilities, DT.FLOAT, rows);
  if (head.thresholds) {
    // As the predict route: a label is in the set when its probability reaches its threshold.
    const thresholds = g.float('head/thresholds', [labels.length], head.thresholds);
    g.output('predicted', g.node('GreaterOrEqual', [head.probabilities, thresholds]), DT.BOOL, rows);
  } else g.output('label', g.node('ArgMax', [head.probabilities], { axis: 1, keepdims: 0 }), DT.INT64, ['batch_size']);
  g.prune();
  return g.encode('transferd', {
    labels: JSON.stringify(labels),
    task: source.task,
    version: String(source.version),
    head_type: source.headType,
    feature_spec: JSON.stringify(specToJson(spec)),
    model: manifest.name,
    max_tokens: String(manifest.maxTokens),
    ...(head.thresholds ? { thresholds: JSON.stringify(head.thresholds) } : {}),
  });
}

/**
 * The version's probabilities: its head's, unwrapped as loadPredictor
 * unwraps a multi-label version (its thresholds beside the head's artifact)
 * and one-vs-rest (label c's probability is its two-class head's probability
 * of class 1).
 */
function headProbabilities(build: OnnxHeadExport, artifact: unknown, input: OnnxHeadInput): { probabilities: string; thresholds?: number[] } {
  const format = (artifact as { format?: unknown } | null)?.format;
  if (format === 'multi-label') {
    const wrapped = artifact as MultiLabelArtifact;
    if (wrapped.thresholds.length !== input.classes) throw new Error('multi-label artifact: one threshold per label expected');
    return { probabilities: headProbabilities(build, wrapped.head, input).probabilities, thresholds: wrapped.thresholds };
  }
  if (format === 'one-vs-rest') {
    const { heads } = artifact as OneVsRestArtifact;
    if (heads.length !== input.classes) throw new Error('one-vs-rest artifact: one head per label expected');
    const g = input.graph;
    const yes = heads.map((h, c) => {
      const own = build(h, { ...input, classes: 2, prefix: `${input.prefix}label_${c}/` });
      return g.node('Slice', [own.probabilities, g.ints([1]), g.ints([2]), g.ints([1])]);
    });
    return { probabilities: yes.length === 1 ? yes[0]! : g.node('Concat', yes, { axis: 1 }) };
  }
  return build(artifact, input);
}
