/**
 * Imports a BERT-family checkpoint (safetensors + config.json + tokenizer.json)
 * into a model folder that transformers.js and this service load:
 *
 *   <out>/config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx, transferd.json,
 *   and layers.safetensors (the encoder layers' weights a fine-tuning job starts from; not in an int8 import)
 *
 * The import is skipped when the folder already holds the same source imported
 * by the same importer version, so running it on every install is cheap.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hiddenStateName, LAYERS_FILE, MANIFEST_FILE, type ModelManifest } from '../manifest.js';
import { type AttentionKind, type BertConfig, buildBertGraph, checkBertConfig, type GraphOptions } from './bert-graph.js';
import { layerTensorShapes } from './layer-stack.js';
import { encodeSafetensors, type RawTensor, readRawSafetensors, readSafetensors } from './safetensors.js';

/** Raise when the graph or folder layout changes, so existing imports are rebuilt. */
export const IMPORTER_VERSION = 4;

export interface ImportOptions {
  /** Overrides the maximum sequence length found in the checkpoint. */
  maxTokens?: number;
  /** Rebuilds even when an identical import exists. */
  force?: boolean;
  /** Attention as plain ONNX ops instead of onnxruntime's kernels (default: its kernels, which are faster). */
  standardAttention?: boolean;
  /**
   * The linear layers' weights as int8 (./quantize.ts), run by onnxruntime's
   * DynamicQuantizeMatMul; its attention is then `multi-head` (Q, K and V
   * quantized, then onnxruntime's MultiHeadAttention), faster than the fused
   * Attention op with its fp32 QKV (docs/models.md).
   */
  int8?: boolean;
}

export interface ImportResult {
  manifest: ModelManifest;
  skipped: boolean;
  ms: number;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
}

function findWeights(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
  const preferred = ['model.safetensors', 'model.fp16.safetensors'].find((f) => files.includes(f)) ?? files[0];
  if (!preferred) throw new Error(`${dir}: no .safetensors file`);
  return join(dir, preferred);
}

/**
 * The longest input the model should see: sentence-transformers' setting when the
 * checkpoint has one, else the tokenizer's, capped by the position table.
 */
function resolveMaxTokens(dir: string, config: { max_position_embeddings: number }, override?: number): number {
  const cap = config.max_position_embeddings;
  if (override !== undefined) {
    if (!Number.isInteger(override) || override < 2 || override > cap) throw new Error(`max tokens must be an integer in [2, ${cap}]`);
    return override;
  }
  const st = join(dir, 'sentence_bert_config.json');
  if (existsSync(st)) {
    const v = readJson(st).max_seq_length;
    if (typeof v === 'number') return Math.min(v, cap);
  }
  const tc = join(dir, 'tokenizer_config.json');
  if (existsSync(tc)) {
    const v = readJson(tc).model_max_length;
    if (typeof v === 'number' && v <= cap) return v;
  }
  return cap;
}

/** The tokenizer without its baked-in padding and truncation: the service controls both. */
function serviceTokenizer(tokenizer: Record<string, unknown>): Record<string, unknown> {
  return { ...tokenizer, truncation: null, padding: null };
}

function tokenizerConfig(tokenizer: Record<string, unknown>, maxTokens: number): Record<string, unknown> {
  const normalizer = tokenizer.normalizer as { lowercase?: boolean } | null;
  return {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: normalizer?.lowercase ?? true,
    model_max_length: maxTokens,
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    mask_token: '[MASK]',
    unk_token: '[UNK]',
  };
}

/**
 * The encoder layers' tensors of the checkpoint, bytes and dtype as it holds them, under their names without
 * any `bert.` prefix, layer by layer; the embeddings stay frozen and are not copied.
 */
function layerTensors(weightsPath: string, config: BertConfig): Map<string, RawTensor> {
  const raw = readRawSafetensors(weightsPath);
  const out = new Map<string, RawTensor>();
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    for (const { name, shape } of layerTensorShapes(config, layer)) {
      const t = raw.get(name) ?? raw.get(`bert.${name}`);
      if (!t || t.shape.join() !== shape.join()) throw new Error(`checkpoint tensor "${name}" is missing or not [${shape}]`);
      out.set(name, t);
    }
  }
  return out;
}

function sha256Files(paths: string[]): string {
  const h = createHash('sha256');
  for (const p of paths) h.update(readFileSync(p));
  return h.digest('hex');
}

/**
 * The ONNX graph of the checkpoint in `srcDir`, built in memory: what an import
 * writes, and what a benchmark compares with one graph option changed.
 */
export function checkpointGraph(srcDir: string, options: GraphOptions): { config: BertConfig; bytes: Uint8Array } {
  const config = checkBertConfig(readJson(join(srcDir, 'config.json')));
  return { config, bytes: buildBertGraph(config, readSafetensors(findWeights(srcDir)), options) };
}

export function importCheckpoint(srcDir: string, outDir: string, name: string, options: ImportOptions = {}): ImportResult {
  const started = performance.now();
  const configPath = join(srcDir, 'config.json');
  const tokenizerPath = join(srcDir, 'tokenizer.json');
  const weightsPath = findWeights(srcDir);
  const sourceSha256 = sha256Files([configPath, tokenizerPath, weightsPath]);

  const weights = options.int8 ? 'int8' : 'fp32';
  const attention: AttentionKind = options.standardAttention ? 'standard' : options.int8 ? 'multi-head' : 'fused';
  const manifestPath = join(outDir, MANIFEST_FILE);
  const trainable = !options.int8;
  const complete = () => existsSync(join(outDir, 'onnx', 'model.onnx')) && (!trainable || existsSync(join(outDir, LAYERS_FILE)));
  if (!options.force && existsSync(manifestPath) && complete()) {
    const existing = readJson(manifestPath) as unknown as ModelManifest;
    if (
      existing.sourceSha256 === sourceSha256 &&
      existing.importerVersion === IMPORTER_VERSION &&
      existing.attention === attention &&
      (existing.weights ?? 'fp32') === weights &&
      (options.maxTokens === undefined || existing.maxTokens === options.maxTokens)
    ) {
      return { manifest: existing, skipped: true, ms: performance.now() - started };
    }
  }

  const rawConfig = readJson(configPath);
  const tokenizer = readJson(tokenizerPath);
  const { config, bytes: onnxBytes } = checkpointGraph(srcDir, { attention, int8: options.int8 === true });
  const maxTokens = resolveMaxTokens(srcDir, config, options.maxTokens);

  const manifest: ModelManifest = {
    name,
    architecture: 'bert',
    layers: config.num_hidden_layers,
    hiddenSize: config.hidden_size,
    maxTokens,
    hiddenStateOutputs: Array.from({ length: config.num_hidden_layers + 1 }, (_, i) => hiddenStateName(i)),
    attention,
    weights,
    packedRows: true,
    ...(trainable ? { trainable: true } : {}),
    importerVersion: IMPORTER_VERSION,
    sourceSha256,
  };

  // Write into a sibling folder and rename, so a crash never leaves a half-written model.
  const staging = `${outDir}.importing-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'onnx'), { recursive: true });
  writeFileSync(join(staging, 'config.json'), `${JSON.stringify(rawConfig, null, 2)}\n`);
  writeFileSync(join(staging, 'tokenizer.json'), JSON.stringify(serviceTokenizer(tokenizer)));
  writeFileSync(join(staging, 'tokenizer_config.json'), `${JSON.stringify(tokenizerConfig(tokenizer, maxTokens), null, 2)}\n`);
  writeFileSync(join(staging, 'onnx', 'model.onnx'), onnxBytes);
  if (trainable) writeFileSync(join(staging, LAYERS_FILE), encodeSafetensors(layerTensors(weightsPath, config)));
  writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  return { manifest, skipped: false, ms: performance.now() - started };
}
