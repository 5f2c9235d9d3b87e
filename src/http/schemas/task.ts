/** A task as the API returns it: from the task routes, and from activating a version. */
import { z } from 'zod';
import { featureSpecOut, taskKind } from './common.js';

export const taskOut = z.object({
  id: z.string(),
  object: z.literal('task'),
  name: z.string(),
  description: z.string().nullable(),
  feature_spec: featureSpecOut,
  kind: taskKind,
  labels: z
    .array(z.object({ name: z.string(), description: z.string().nullable() }))
    .describe('Declared labels, with their descriptions: what zero-shot prediction (version 0) knows of them.'),
  example_count: z.number().int(),
  pool_count: z.number().int().describe('Unlabelled texts in its pool.'),
  active_version: z.number().int().nullable(),
  retrain_after: z
    .number()
    .int()
    .nullable()
    .describe('Queue a training job by itself once this many new examples were added (PATCH to set; null: off, the default).'),
  new_examples: z
    .number()
    .int()
    .describe("Examples added since the task's last training job was queued, or since retrain_after was turned on: what retrain_after counts."),
  created_at: z.string(),
  updated_at: z.string(),
  label_counts: z
    .record(z.string(), z.number().int())
    .optional()
    .describe('Examples per label (multi-label: examples that carry it); only on GET of one task.'),
});
