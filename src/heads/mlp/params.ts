/** The `mlp` head's parameters in the API's form: what a request gives, a search varies and a fit reads. */
import { z } from 'zod';

const positive = z.number().positive().finite();

export const mlpParamsSchema = z
  .object({
    hidden_layer_sizes: z.array(z.number().int().min(1).max(4096)).min(1).max(2).default([256]).describe('Units in each hidden layer (one or two layers).'),
    alpha: z.number().min(0).max(100).finite().default(1e-4).describe('L2 penalty (weight decay) on the weights, as in scikit-learn.'),
    learning_rate: positive.max(1).default(1e-3).describe("Adam's step size."),
    batch_size: z.number().int().min(1).max(10_000).default(200).describe('Rows per mini-batch (all rows when fewer).'),
    max_iter: z.number().int().min(1).max(2000).default(200).describe('Most epochs.'),
    early_stopping: z
      .boolean()
      .default(true)
      .describe(
        "Stop when the held-out share's accuracy stops improving (and keep its best epoch), when that share has at least 50 rows; false, or fewer rows: train on every row and stop when the training loss stops improving.",
      ),
    validation_fraction: positive.max(0.5).default(0.1).describe('Share of each label held out for early stopping.'),
    n_iter_no_change: z.number().int().min(1).max(1000).default(10).describe('Epochs without improvement before stopping.'),
    tol: z.number().min(0).max(1).default(1e-4).describe('Smallest change that counts as an improvement.'),
  })
  .strict();

export type MlpHeadParams = z.output<typeof mlpParamsSchema>;
