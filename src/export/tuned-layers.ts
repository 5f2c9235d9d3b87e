/**
 * A fine-tuned version's layers in place of the imported encoder's: the
 * graph is cut after hidden state `first` (the frozen layers above it go,
 * with their weights), and the version's tuned layers are added on it, their
 * weights from its stack, in plain operators unless the export keeps the
 * imported graph's fused attention.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sequenceMask } from '../encoder/import/attention.js';
import { checkBertConfig } from '../encoder/import/bert-graph.js';
import { addEncoderLayers } from '../encoder/import/layer-stack.js';
import { hiddenStateName, type ModelManifest } from '../encoder/manifest.js';
import { type TunedStack, tunedStackSource } from '../encoder/tuned-stack.js';
import { DT, type GraphBuilder } from '../onnx/graph.js';
import type { AttentionMode } from './encoder-graph.js';

/** Replaces layers stack.first … stack.last of the encoder in `g` (no outputs declared yet); returns the value of hidden state last + 1. */
export function tunedLayersInPlace(g: GraphBuilder, modelDir: string, manifest: ModelManifest, stack: TunedStack, attention: AttentionMode): string {
  if (stack.model.sourceSha256 !== manifest.sourceSha256) throw new Error(`the version's layers were tuned on another import of ${stack.model.name}`);
  if (stack.last !== manifest.layers - 1) throw new Error(`tuned layers [${stack.first}, ${stack.last}] do not end at the model's last layer`);
  const input = hiddenStateName(stack.first);
  // Only what hidden state `first` needs stays: the frozen layers above it and their weights are dropped.
  g.output(input, input, DT.FLOAT, ['batch_size', 'sequence_length', manifest.hiddenSize]);
  g.prune();
  g.clearOutputs();
  const dims = checkBertConfig(JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>);
  const { states } = addEncoderLayers(g, {
    dims,
    first: stack.first,
    last: stack.last,
    input,
    attends: sequenceMask(g, 'attention_mask').attends,
    weights: {
      from: 'checkpoint',
      tensor: tunedStackSource(stack),
      attention: attention === 'as-imported' && manifest.attention === 'fused' ? 'fused' : 'standard',
    },
    outputName: (layer) => (layer === stack.last ? `tuned/${hiddenStateName(layer + 1)}` : undefined),
  });
  return states.at(-1)!;
}
