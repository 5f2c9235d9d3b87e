/** Schemas shared by the resource routes: paging, timestamps, feature specs. */
import { z } from 'zod';

export const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Items per page (1..1000, default 100).'),
    after: z.string().min(1).max(500).optional().describe("Cursor from the previous page's next_after."),
  })
  .strict();

/** Paging by numeric id: `what` names the items ("examples", "pool texts"). */
export const idPageFields = (what: string) => ({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Items per page (1..1000, default 100).'),
  after: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe(`Return ${what} with an id greater than this (next_after of the previous page).`),
});

/** A fine-tuning epoch, in a job's progress and in a fine-tuned version's history. */
export const fineTuneEpochOut = z.object({
  epoch: z.number().int(),
  loss: z.number().describe('Mean training loss over the epoch.'),
  seconds: z.number(),
  held_out: z
    .union([z.object({ accuracy: z.number() }), z.object({ macro_f1: z.number() })])
    .optional()
    .describe('The hold-out after the epoch: accuracy, or (multi-label) macro-F1 at threshold 0.5.'),
});

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const listEnvelope = <T extends z.ZodType>(item: T) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    has_more: z.boolean(),
    next_after: z.string().nullable().describe('Pass as `after` for the next page; null on the last.'),
  });

/** One page in the envelope every list shares. */
export const listJson = <T>(data: T[], next: string | null) => ({ object: 'list' as const, data, has_more: next !== null, next_after: next });

export const taskKind = z.enum(['single_label', 'multi_label']);

export const featureSpecOut = z.object({
  model: z.string(),
  layers: z.array(z.number().int()),
  layer_combine: z.enum(['concat', 'mean']),
  pooling: z.enum(['mean', 'cls', 'max']),
  normalize: z.boolean(),
  tuned: z
    .object({ first_layer: z.number().int() })
    .optional()
    .describe(
      "A fine-tuned version's: the shared encoder's hidden state first_layer goes through the version's own tuned layers (first_layer … L − 1), whose output is pooled.",
    ),
});
