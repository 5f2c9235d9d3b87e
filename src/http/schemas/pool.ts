/** A task's pool of unlabelled texts as the API returns it, and the label prior estimated on it. */
import { z } from 'zod';

export const poolTextOut = z.object({
  id: z.number().int().describe("Its number in its task's pool: 1, 2, … in the order added, never reused."),
  object: z.literal('pool_text'),
  text: z.string(),
  created_at: z.string(),
});
export const poolUploadOut = z.object({
  object: z.literal('pool.upload'),
  received: z.number().int().describe('Texts in the request.'),
  added: z.number().int(),
  skipped: z.object({
    labelled: z.number().int().describe('Texts the task already has as examples.'),
    pooled: z.number().int().describe('Texts already in the pool.'),
    repeated: z.number().int().describe('Texts given more than once in the request (counted once).'),
  }),
  pool_count: z.number().int().describe('Texts in the pool after the request.'),
});
export const poolDeletionOut = z.object({ object: z.literal('pool.deletion'), deleted: z.number().int() });

/** What a zero-shot version (0) says of the label prior it applies, in predictions and suggestions. */
export const appliedPriorOut = z
  .object({
    labels: z.record(z.string(), z.number()).describe("Each label's estimated share of the pool."),
    pool_texts: z.number().int().describe('Pool texts it was estimated on.'),
  })
  .describe(
    "Version 0 only, once a prior has been estimated on the task's pool: its probabilities are re-weighted by it, p(y|x)·prior(y)/(1/labels), renormalised.",
  );

export const labelPriorOut = z.object({
  object: z.literal('label_prior'),
  task: z.string(),
  state: z
    .enum(['current', 'estimating', 'unavailable'])
    .describe(
      'current: estimated on the pool as it is, for the labels and descriptions as they are; estimating: the pool, labels or descriptions changed since (or none was made yet) and an estimate is under way; unavailable: see reason.',
    ),
  applied: z.boolean().describe('Whether version 0 answers the task now (no trained version active) with a prior.'),
  prior: z
    .record(z.string(), z.number())
    .nullable()
    .describe("The prior version 0 applies: each label's estimated share of the pool; null while there is none."),
  pool_texts: z.number().int().nullable().describe('Pool texts it was estimated on.'),
  iterations: z.number().int().nullable().describe('EM iterations it took.'),
  estimated_at: z.string().nullable(),
  pool_count: z.number().int().describe('Texts in the pool now.'),
  reason: z.string().nullable().describe('Why there is none (state unavailable).'),
});
