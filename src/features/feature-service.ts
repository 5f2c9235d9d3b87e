/**
 * Features of texts under feature specs, computed once and reused:
 * memory LRU → store → encoder. One encoder pass serves every spec of the same
 * model, so a call with several specs (multi-task predict, layer sweeps) costs
 * a single forward pass per model.
 *
 * Predictions keep new features in memory only (the store would otherwise grow
 * with every text ever predicted); training persists them, so retraining and
 * other tasks with the same spec never run the encoder again.
 *
 * With API keys on, each client's features are its own (cache keys carry the
 * client) unless sharing is configured.
 *
 * A fine-tuned version's spec names the version (`tuned`), so its features are
 * cached apart from every other spec's; the encoder gets the version's stored
 * stack from `stacks` when its worker does not hold it.
 */
import type { EncodeOptions } from '../encoder/encoder.js';
import { specDimensions, specKey, type FeatureSpec } from '../encoder/feature-spec.js';
import type { ModelRegistry } from '../encoder/registry.js';
import { textHash } from '../store/ids.js';
import type { FeatureStore } from '../store/types.js';
import { LruCache } from '../lib/lru.js';

export interface FeatureMatrix {
  spec: FeatureSpec;
  /** n × dim, row-major, rows in the order of the texts asked for. */
  x: Float32Array;
  dim: number;
}

export interface FeatureResult {
  matrices: FeatureMatrix[];
  /** Texts that went through the encoder (0 when everything was cached). */
  encoded: number;
  tokens: number;
}

export interface TrainingFeatureOptions {
  /** Texts per encoder call: small enough that interactive requests get turns between them. */
  chunk?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

type Encode = (model: string, texts: string[], specs: FeatureSpec[], options: EncodeOptions) => Promise<{ features: Float32Array[]; tokens: number }>;

export interface FeatureServiceOptions {
  /** Bytes of feature vectors kept in memory. */
  memoryBytes: number;
  /**
   * Keep each client's features apart (the default with keys on): shared
   * features would let a client time whether another client sent a text.
   */
  perClient: boolean;
  /** The encoder call (default: the registry's model). */
  encode?: Encode;
  /** A client's fine-tuned version's stored stack (encodeTunedStack's bytes), for specs that name one. */
  stacks?: (client: string, version: string) => Promise<Uint8Array>;
}

export class FeatureService {
  private readonly memory: LruCache<Float32Array>;
  private readonly encode: Encode;
  /** Texts sent to the encoder, by purpose: lets tests and metrics prove reuse. */
  readonly encodedTexts = { predict: 0, training: 0 };

  constructor(
    private readonly models: ModelRegistry,
    private readonly store: FeatureStore,
    private readonly options: FeatureServiceOptions,
  ) {
    this.memory = new LruCache<Float32Array>(options.memoryBytes, (v) => v.byteLength + 96);
    this.encode =
      options.encode ??
      ((model, texts, specs, options) => {
        const encoder = this.models.get(model);
        if (!encoder) throw new Error(`model ${model} is not loaded`);
        return encoder.encode(texts, specs, options);
      });
  }

  get cacheStats() {
    return { entries: this.memory.size, bytes: this.memory.bytes, hits: this.memory.hits, misses: this.memory.misses };
  }

  /**
   * The cache key of a spec's features for a client: its own, or (shared) the
   * spec alone. The prefix ends in '/', which no spec key contains, so one
   * client's keys can never be another's.
   */
  private keyOf(client: string, spec: FeatureSpec): string {
    return this.options.perClient ? `${client}/${specKey(spec)}` : specKey(spec);
  }

  /** Where the encoder gets a client's fine-tuned versions' stacks from. */
  private stackOption(client: string): Pick<EncodeOptions, 'stack'> {
    const stacks = this.options.stacks;
    return stacks ? { stack: (version) => stacks(client, version) } : {};
  }

  private dim(spec: FeatureSpec): number {
    const encoder = this.models.get(spec.model);
    if (!encoder) throw new Error(`model ${spec.model} is not loaded`);
    return specDimensions(spec, encoder.manifest.hiddenSize);
  }

  /**
   * Features for predictions: memory, then store, then the encoder (interactive
   * lane) for what is left. Specs may span models; each model runs once.
   */
  async forTexts(client: string, specs: FeatureSpec[], texts: string[], options: EncodeOptions = {}): Promise<FeatureResult> {
    const hashes = texts.map(textHash);
    const keys = specs.map((s) => this.keyOf(client, s));
    const matrices = specs.map((spec) => ({ spec, dim: this.dim(spec), x: new Float32Array(texts.length * this.dim(spec)) }));
    // missing[s] = indexes of texts whose features under spec s are not in memory.
    const missing = specs.map((_, s) => {
      const out: number[] = [];
      hashes.forEach((h, i) => {
        const v = this.memory.get(`${keys[s]}\u0000${h}`);
        if (v) matrices[s]!.x.set(v, i * matrices[s]!.dim);
        else out.push(i);
      });
      return out;
    });
    await Promise.all(
      specs.map(async (_, s) => {
        if (missing[s]!.length === 0) return;
        const stored = await this.store.getFeatures(keys[s]!, [...new Set(missing[s]!.map((i) => hashes[i]!))]);
        missing[s] = missing[s]!.filter((i) => {
          const v = stored.get(hashes[i]!);
          if (!v) return true;
          matrices[s]!.x.set(v, i * matrices[s]!.dim);
          this.memory.set(`${keys[s]}\u0000${hashes[i]}`, v);
          return false;
        });
      }),
    );
    let encoded = 0;
    let tokens = 0;
    // Group by model: every spec of a model shares one pass over the union of its missing texts.
    const byModel = new Map<string, number[]>();
    for (const [s, spec] of specs.entries()) if (missing[s]!.length) byModel.set(spec.model, [...(byModel.get(spec.model) ?? []), s]);
    await Promise.all(
      [...byModel].map(async ([model, specIdx]) => {
        const textIdx = [...new Set(specIdx.flatMap((s) => missing[s]!))].sort((a, b) => a - b);
        const unique = new Map<string, number>(); // a text repeated in one call is encoded once
        for (const i of textIdx) if (!unique.has(hashes[i]!)) unique.set(hashes[i]!, i);
        const toEncode = [...unique.values()];
        const result = await this.encode(
          model,
          toEncode.map((i) => texts[i]!),
          specIdx.map((s) => specs[s]!),
          { ...options, lane: 'interactive', ...this.stackOption(client) },
        );
        encoded += toEncode.length;
        tokens += result.tokens;
        specIdx.forEach((s, k) => {
          const { dim, x } = matrices[s]!;
          const row = new Map<string, Float32Array>();
          toEncode.forEach((i, r) => {
            const v = result.features[k]!.slice(r * dim, (r + 1) * dim);
            row.set(hashes[i]!, v);
            this.memory.set(`${keys[s]}\u0000${hashes[i]}`, v);
          });
          for (const i of missing[s]!) x.set(row.get(hashes[i]!)!, i * dim);
        });
      }),
    );
    this.encodedTexts.predict += encoded;
    return { matrices, encoded, tokens };
  }

  /**
   * Features for training: every text's features under every spec, from the
   * store where present; the rest is encoded on the bulk lane in chunks and
   * persisted, so the next job (or another task with the same spec) skips it.
   * A fine-tuned version's spec is encoded every time and never persisted.
   */
  async forTraining(client: string, specs: FeatureSpec[], texts: string[], textHashes: string[], options: TrainingFeatureOptions = {}): Promise<FeatureResult> {
    const chunk = options.chunk ?? 256;
    const keys = specs.map((s) => this.keyOf(client, s));
    const matrices = specs.map((spec) => ({ spec, dim: this.dim(spec), x: new Float32Array(texts.length * this.dim(spec)) }));
    const missing = new Set<number>();
    for (let s = 0; s < specs.length; s++) {
      // A fine-tuned version's features are never stored: they would outlive the version (the store keys features by spec alone).
      if (specs[s]!.tuned) {
        for (let i = 0; i < texts.length; i++) missing.add(i);
        continue;
      }
      for (let start = 0; start < texts.length; start += 2048) {
        const hashes = textHashes.slice(start, start + 2048);
        const stored = await this.store.getFeatures(keys[s]!, hashes);
        hashes.forEach((h, k) => {
          const v = stored.get(h);
          if (v) matrices[s]!.x.set(v, (start + k) * matrices[s]!.dim);
          else missing.add(start + k);
        });
      }
    }
    // A text missing under any spec is encoded for all of them: one pass, and the specs stay in step.
    const todo = [...missing].sort((a, b) => a - b);
    let tokens = 0;
    const byModel = new Map<string, number[]>();
    for (const [s, spec] of specs.entries()) byModel.set(spec.model, [...(byModel.get(spec.model) ?? []), s]);
    let done = 0;
    options.onProgress?.(0, todo.length);
    for (let start = 0; start < todo.length; start += chunk) {
      options.signal?.throwIfAborted();
      const idx = todo.slice(start, start + chunk);
      for (const [model, specIdx] of byModel) {
        const result = await this.encode(
          model,
          idx.map((i) => texts[i]!),
          specIdx.map((s) => specs[s]!),
          { lane: 'bulk', signal: options.signal, ...this.stackOption(client) },
        );
        tokens += result.tokens;
        await Promise.all(
          specIdx.map((s, k) => {
            const { dim, x } = matrices[s]!;
            const entries: Array<[string, Float32Array]> = idx.map((i, r) => {
              const v = result.features[k]!.subarray(r * dim, (r + 1) * dim);
              x.set(v, i * dim);
              return [textHashes[i]!, v];
            });
            return specs[s]!.tuned ? undefined : this.store.putFeatures(keys[s]!, entries);
          }),
        );
      }
      done += idx.length;
      options.onProgress?.(done, todo.length);
    }
    this.encodedTexts.training += todo.length;
    return { matrices, encoded: todo.length, tokens };
  }
}
