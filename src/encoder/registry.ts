/** The loaded models, by name. */
import { join, resolve } from 'node:path';
import { Encoder } from './encoder.js';
import { readManifest } from './manifest.js';

export interface RegistryOptions {
  modelsDir: string;
  models: string[];
  threads: number;
  /** onnxruntime spin-waiting (default off). */
  spin?: boolean;
  maxBatchTokens: number;
  maxBatchSize: number;
  maxQueuedTexts: number;
  /** Longest predicted queue wait of an interactive call (0: only the text bound). */
  maxQueueWaitMs?: number;
  /** Bytes of fine-tuned versions' stacks each encoder keeps loaded (default 256 MB). */
  maxStackBytes?: number;
}

export interface ModelInfo {
  name: string;
  layers: number;
  hiddenSize: number;
  maxTokens: number;
}

export class ModelRegistry {
  private constructor(
    private readonly encoders: Map<string, Encoder>,
    readonly defaultModel: string,
  ) {}

  /** Loads every configured model; fails with a hint when one was never imported. */
  static async load(options: RegistryOptions): Promise<ModelRegistry> {
    const encoders = new Map<string, Encoder>();
    try {
      for (const name of options.models) {
        const modelDir = resolve(join(options.modelsDir, name));
        const manifest = readManifest(modelDir);
        if (!manifest) {
          throw new Error(`model ${name} is not imported in ${options.modelsDir} (run: npm run import-model -- <checkpoint-dir> ${name})`);
        }
        if (options.maxBatchTokens < manifest.maxTokens) {
          throw new Error(`TRANSFERD_MAX_BATCH_TOKENS (${options.maxBatchTokens}) must hold one ${manifest.maxTokens}-token input of ${name}`);
        }
        encoders.set(name, await Encoder.start({ ...options, spin: options.spin ?? false, modelDir, manifest }));
      }
    } catch (err) {
      await Promise.all([...encoders.values()].map((e) => e.close()));
      throw err;
    }
    return new ModelRegistry(encoders, options.models[0]!);
  }

  get(name: string): Encoder | undefined {
    return this.encoders.get(name);
  }

  list(): ModelInfo[] {
    return [...this.encoders.values()].map(({ manifest: m }) => ({ name: m.name, layers: m.layers, hiddenSize: m.hiddenSize, maxTokens: m.maxTokens }));
  }

  all(): Encoder[] {
    return [...this.encoders.values()];
  }

  /** True when every model is loaded and warmed up. */
  get ready(): boolean {
    return this.all().every((e) => e.ready);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((e) => e.close()));
  }
}
