/**
 * The model manifest (`transferd.json` beside the ONNX graph): what the
 * service reads about an imported model. The importer writes it and the
 * registry and the encoder read it, so it lives here rather than in either.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const MANIFEST_FILE = 'transferd.json';

/** The encoder layers' weights (safetensors, the checkpoint's names and dtypes) beside a trainable model's graph. */
export const LAYERS_FILE = 'layers.safetensors';

export interface ModelManifest {
  name: string;
  architecture: 'bert';
  /** Number of encoder layers; hidden states run from 0 (embeddings) to `layers`. */
  layers: number;
  hiddenSize: number;
  /** Longest input in tokens, [CLS] and [SEP] included. */
  maxTokens: number;
  hiddenStateOutputs: string[];
  /**
   * `fused`: onnxruntime's com.microsoft.Attention; `multi-head`: the graph's own Q, K, V projections, then
   * com.microsoft.MultiHeadAttention (the int8 import); `standard`: plain ONNX ops only.
   */
  attention: 'fused' | 'multi-head' | 'standard';
  /** `int8`: the linear layers' weights quantized per column, run by DynamicQuantizeMatMul. Absent in imports that predate it: fp32. */
  weights?: 'fp32' | 'int8';
  /**
   * The graph reads `attention_mask` as sequence numbers (0 padding, k the row's k-th sequence), so one row
   * may hold several sequences (./packing.ts). Absent in imports before importer version 3: a 1/0 mask.
   */
  packedRows?: boolean;
  /**
   * The folder holds LAYERS_FILE, the encoder layers' weights a fine-tuning job starts from. Absent in int8
   * imports and in imports before importer version 4: such a model cannot be fine-tuned.
   */
  trainable?: boolean;
  importerVersion: number;
  sourceSha256: string;
}

/** The graph output holding hidden state `layer` (0 = embedding output, L = last encoder layer). */
export function hiddenStateName(layer: number): string {
  return `hidden_states.${layer}`;
}

/** The manifest of the model imported in `modelDir`, or undefined when there is none. */
export function readManifest(modelDir: string): ModelManifest | undefined {
  const path = join(modelDir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
}
