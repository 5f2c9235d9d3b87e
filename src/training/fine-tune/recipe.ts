/**
 * A fine-tuning job's recipe: what to tune and how. The defaults are the
 * ones docs/fine-tuning.md gives (it says which runs chose them); every
 * check a request can fail is here, so the job integration refuses a bad
 * request with the same words before a job starts.
 */
import { DomainError } from '../../errors.js';
import type { ModelManifest } from '../../encoder/manifest.js';

export type FineTuneObjective = 'classification' | 'contrastive';

export interface FineTuneRecipe {
  /** The top `layers` encoder layers are tuned (1 … the model's); the ones below stay frozen. */
  layers: number;
  epochs: number;
  /** Peak learning rate (reached after the warm-up, then decayed linearly to 0). */
  learningRate: number;
  batchSize: number;
  /** Tokens a text keeps, [CLS] and [SEP] included (a longer text keeps its head and ends in [SEP]). */
  maxTokens: number;
  /** AdamW's decoupled weight decay, on every weight but biases and LayerNorm parameters. */
  weightDecay: number;
  /** Share of the steps over which the learning rate rises linearly from lr/warm-up steps to lr. */
  warmup: number;
  /** Dropout on the attention probabilities, both projections before their residual sums, and the pooled vector. */
  dropout: number;
  /** Gradients are scaled down to this global L2 norm when above it. */
  clipNorm: number;
  /** The classifier starts at logistic regression on the untouched features (./probe.ts), not at random. */
  probe: boolean;
  /**
   * What the steps minimise: the classifier's cross-entropy, or the supervised contrastive loss of the pooled
   * embeddings (texts of a label drawn together, the batch's others as negatives), after which the classifier is
   * logistic regression on the tuned embeddings.
   */
  objective: FineTuneObjective;
  seed: number;
  /** onnxruntime's intra-op threads; 0: one per core. */
  threads: number;
}

/**
 * Most tokens a step may hold (batch × tokens a text): a step's activations take about 0.11 MiB a token a tuned
 * layer (docs/benchmarks/finetune.md), so this bounds a job of all six layers near 5.5 GiB.
 */
export const MAX_STEP_TOKENS = 8192;

/** The contrastive objective's temperature (SimCSE's and FastFit's order of magnitude; not chosen on the shared sets). */
export const CONTRASTIVE_TEMPERATURE = 0.05;

/** AdamW's constants (PyTorch's defaults, which the recipes in the literature use). */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

export const DEFAULT_RECIPE: Omit<FineTuneRecipe, 'layers'> & { layers: number | 'all' } = {
  layers: 'all',
  epochs: 3,
  learningRate: 5e-5,
  batchSize: 32,
  maxTokens: 128,
  weightDecay: 0.01,
  warmup: 0.1,
  dropout: 0.1,
  clipNorm: 1,
  probe: true,
  objective: 'classification',
  seed: 0,
  threads: 0,
};

/**
 * Below this many examples a label (the median), where the label descriptions join the examples, a single-label
 * fine-tuning job takes what its request leaves unset from FEW_SHOT_RECIPE (src/training/plan.ts). At 2, 4, 8
 * and 16 a label it gained over the frozen path on average over the shared sets, more than the defaults
 * (docs/benchmarks/finetune.md); from 32 a label a job no longer adds the descriptions.
 */
export const FEW_SHOT_BELOW = 32;

/** Ten epochs, where three of a few examples take a few steps and end about where the probe started; the contrastive loss. */
export const FEW_SHOT_RECIPE = { epochs: 10, objective: 'contrastive' } as const satisfies Partial<FineTuneRecipe>;

export type RecipeInput = Partial<Omit<FineTuneRecipe, 'layers'>> & { layers?: number | 'all' };

const fail = (param: string, message: string): never => {
  throw new DomainError('invalid_params', message, param);
};

/** The recipe for `model` with `given` over the defaults, checked; a DomainError (invalid_params) names the bad field. */
export function resolveRecipe(given: RecipeInput, model: Pick<ModelManifest, 'layers' | 'maxTokens'>): FineTuneRecipe {
  const r = { ...DEFAULT_RECIPE, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  const layers = r.layers === 'all' ? model.layers : r.layers;
  const int = (v: number) => Number.isInteger(v);
  if (!int(layers) || layers < 1 || layers > model.layers) fail('layers', `layers must be "all" or an integer in [1, ${model.layers}] (the model's layers)`);
  if (!int(r.epochs) || r.epochs < 1 || r.epochs > 100) fail('epochs', 'epochs must be an integer in [1, 100]');
  if (!(r.learningRate > 0 && r.learningRate <= 1)) fail('learning_rate', 'learning_rate must be in (0, 1]');
  if (!int(r.batchSize) || r.batchSize < 1 || r.batchSize > 1024) fail('batch_size', 'batch_size must be an integer in [1, 1024]');
  if (!int(r.maxTokens) || r.maxTokens < 3 || r.maxTokens > model.maxTokens)
    fail('max_tokens', `max_tokens must be an integer in [3, ${model.maxTokens}] (the model takes at most ${model.maxTokens})`);
  if (r.batchSize * r.maxTokens > MAX_STEP_TOKENS)
    fail(
      'batch_size',
      `batch_size × max_tokens must be at most ${MAX_STEP_TOKENS} tokens a step (${r.batchSize} × ${r.maxTokens} = ${r.batchSize * r.maxTokens}): onnxruntime's working memory grows with a step's tokens`,
    );
  if (!(r.weightDecay >= 0 && r.weightDecay < 1)) fail('weight_decay', 'weight_decay must be in [0, 1)');
  if (!(r.warmup >= 0 && r.warmup < 1)) fail('warmup', 'warmup must be a share of the steps in [0, 1)');
  if (!(r.dropout >= 0 && r.dropout < 1)) fail('dropout', 'dropout must be in [0, 1)');
  if (!(r.clipNorm > 0)) fail('clip_norm', 'clip_norm must be > 0');
  if (r.objective !== 'classification' && r.objective !== 'contrastive') fail('objective', 'objective must be "classification" or "contrastive"');
  if (!int(r.seed) || r.seed < 0 || r.seed > 0xffffffff) fail('seed', 'seed must be an integer in [0, 2^32)');
  if (!int(r.threads) || r.threads < 0 || r.threads > 256) fail('threads', 'threads must be an integer in [0, 256]');
  return { ...r, layers } as FineTuneRecipe;
}

/** Optimizer steps of a run: ⌈n / batch⌉ an epoch. */
export function stepsOf(examples: number, recipe: Pick<FineTuneRecipe, 'batchSize' | 'epochs'>): number {
  return recipe.epochs * Math.ceil(examples / recipe.batchSize);
}

/**
 * The learning rate of step `s` (0-based) of `steps`: linear warm-up over the first ⌊warmup·steps⌋ steps
 * (step s at (s + 1)/warm of the peak), then linear decay to 0 at the end.
 */
export function learningRateAt(s: number, steps: number, recipe: Pick<FineTuneRecipe, 'learningRate' | 'warmup'>): number {
  const warm = Math.floor(recipe.warmup * steps);
  if (s < warm) return (recipe.learningRate * (s + 1)) / warm;
  return (recipe.learningRate * Math.max(0, steps - s)) / Math.max(1, steps - warm);
}
