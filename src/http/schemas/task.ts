/** A task as the API returns it: from the task routes, and from activating a version. */
import { z } from 'zod';
import { specToJson } from '../../encoder/feature-spec.js';
import type { TaskRecord } from '../../store/types.js';
import { featureSpecOut, iso } from './common.js';

export const taskOut = z.object({
  id: z.string(),
  object: z.literal('task'),
  name: z.string(),
  description: z.string().nullable(),
  feature_spec: featureSpecOut,
  kind: z.enum(['single_label', 'multi_label']),
  labels: z
    .array(z.object({ name: z.string(), description: z.string().nullable() }))
    .describe('Declared labels, with their descriptions: what zero-shot prediction (version 0) knows of them.'),
  example_count: z.number().int(),
  active_version: z.number().int().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  label_counts: z
    .record(z.string(), z.number().int())
    .optional()
    .describe('Examples per label (multi-label: examples that carry it); only on GET of one task.'),
});

export function taskJson(t: TaskRecord, labelCounts?: Map<string, number>): z.infer<typeof taskOut> {
  return {
    id: t.id,
    object: 'task',
    name: t.name,
    description: t.description,
    feature_spec: specToJson(t.spec),
    kind: t.kind,
    labels: t.labels,
    example_count: t.exampleCount,
    active_version: t.activeVersion,
    created_at: iso(t.createdAt)!,
    updated_at: iso(t.updatedAt)!,
    ...(labelCounts ? { label_counts: Object.fromEntries(labelCounts) } : {}),
  };
}
