/**
 * The `fine_tune` head of a training request: its parameters as the API
 * takes them (snake_case, defaults the recipe's) and the recipe a job runs.
 * Apart from the head registry: a fine-tuned head is not fitted on stored
 * features, it trains the encoder's top layers on the texts themselves.
 */
import { z } from 'zod';
import type { ModelManifest } from '../../encoder/manifest.js';
import { FINE_TUNE_HEAD } from '../../heads/fine-tuned.js';
import { DEFAULT_RECIPE, FEW_SHOT_BELOW, FEW_SHOT_RECIPE, type FineTuneRecipe, resolveRecipe } from './recipe.js';

export { FINE_TUNE_HEAD };

export const FINE_TUNE_DESCRIPTION =
  "Fine-tunes the encoder's top layers and a linear classifier on their mean-pooled output, by backpropagation (AdamW, warm-up then linear decay); the layers below stay the shared frozen encoder. Evaluated on a hold-out by default.";

const FEW_SHOT_NOTE = `2 to ${FEW_SHOT_BELOW - 1} examples a label (the median) whose label descriptions join the training (label_descriptions)`;

/** Checked against the task's model when the request arrives (resolveRecipe): the bounds here are the model-free ones. */
export const fineTuneParamsSchema = z
  .object({
    layers: z
      .union([z.literal('all'), z.number().int().min(1)])
      .default(DEFAULT_RECIPE.layers)
      .describe('The top N encoder layers to tune (1 … the model\'s layers), or "all".'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe(`Passes over the training examples (default ${DEFAULT_RECIPE.epochs}; ${FEW_SHOT_RECIPE.epochs} for a single-label task of ${FEW_SHOT_NOTE}).`),
    learning_rate: z
      .number()
      .gt(0)
      .max(1)
      .default(DEFAULT_RECIPE.learningRate)
      .describe('Peak learning rate, reached after the warm-up, then decayed linearly to 0.'),
    batch_size: z.number().int().min(1).max(1024).default(DEFAULT_RECIPE.batchSize).describe('Examples a step.'),
    max_tokens: z
      .number()
      .int()
      .min(3)
      .default(DEFAULT_RECIPE.maxTokens)
      .describe("Tokens a text keeps, [CLS] and [SEP] included (at most the model's); a longer text keeps its start."),
    weight_decay: z
      .number()
      .min(0)
      .lt(1)
      .default(DEFAULT_RECIPE.weightDecay)
      .describe('AdamW weight decay, on every weight but biases and LayerNorm parameters.'),
    warmup: z.number().min(0).lt(1).default(DEFAULT_RECIPE.warmup).describe('Share of the steps over which the learning rate rises to its peak.'),
    dropout: z
      .number()
      .min(0)
      .lt(1)
      .default(DEFAULT_RECIPE.dropout)
      .describe('Dropout on attention probabilities, the projections before each residual sum, and the pooled vector.'),
    probe: z
      .boolean()
      .default(DEFAULT_RECIPE.probe)
      .describe('Start the classifier at logistic regression on the untouched features (linear probing, then fine-tuning); false: at random.'),
    objective: z
      .enum(['classification', 'contrastive'])
      .optional()
      .describe(
        `What the steps minimise: the classifier's cross-entropy, or (single-label tasks) a supervised contrastive loss on the pooled embeddings (texts of a label batched together, the batch's others as negatives), the classifier then logistic regression on the tuned embeddings. Default ${DEFAULT_RECIPE.objective}; ${FEW_SHOT_RECIPE.objective} for a single-label task of ${FEW_SHOT_NOTE}.`,
      ),
  })
  .strict();

export type FineTuneParams = z.output<typeof fineTuneParamsSchema>;

/** The recipe of a request's `fine_tune` head on `model` (DomainError invalid_params naming the field when it cannot work). */
export function recipeOf(params: FineTuneParams, seed: number, model: Pick<ModelManifest, 'layers' | 'maxTokens'>, threads = 0): FineTuneRecipe {
  return resolveRecipe(
    {
      layers: params.layers,
      epochs: params.epochs,
      learningRate: params.learning_rate,
      batchSize: params.batch_size,
      maxTokens: params.max_tokens,
      weightDecay: params.weight_decay,
      warmup: params.warmup,
      dropout: params.dropout,
      probe: params.probe,
      objective: params.objective,
      seed,
      threads,
    },
    model,
  );
}

/** Why `manifest` cannot be fine-tuned, or undefined when it can. */
export function untrainableReason(manifest: ModelManifest | undefined): string | undefined {
  if (!manifest) return 'the model is not imported';
  if (manifest.weights === 'int8') return `${manifest.name} is an int8 import, which cannot be fine-tuned: fine-tune its fp32 import`;
  if (!manifest.trainable)
    return `${manifest.name} was imported before fine-tuning existed: re-import it (npm run import-model -- --default, or import-model <checkpoint> ${manifest.name} --force)`;
  return undefined;
}
