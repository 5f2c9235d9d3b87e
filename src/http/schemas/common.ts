/** Schemas shared by the resource routes: paging, timestamps, feature specs. */
import { z } from 'zod';

export const pageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Items per page (1..1000, default 100).'),
    after: z.string().min(1).max(500).optional().describe("Cursor from the previous page's next_after."),
  })
  .strict();

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
