/** One example's label as a request gives it and the store keeps it, and an example as the API returns it: shared by the examples and pool routes. */
import { z } from 'zod';
import { DomainError } from '../errors.js';
import type { TaskKind } from '../lib/task-kind.js';
import { labelSetKey, labelsOfKey } from '../store/label-set.js';
import type { ExampleRecord } from '../store/types.js';
import { iso } from './schemas/common.js';
import type { exampleOut } from './schemas/example.js';
import { stored } from './schemas/stored-text.js';
import { MAX_LABELS_PER_EXAMPLE } from './uploads.js';

const label = stored(z.string().trim().min(1, 'must not be empty').max(200));

/** A label for one example: `label` in a single-label task, `labels` in a multi-label one (what PATCH of an example and labelling a pool text take). */
export const labelBody = z
  .object({
    label: label.optional().describe('Single-label tasks.'),
    labels: z.array(label).min(1).max(MAX_LABELS_PER_EXAMPLE).optional().describe('Multi-label tasks: the whole new set.'),
  })
  .strict()
  .refine((b) => (b.label === undefined) !== (b.labels === undefined), 'send label (single-label task) or labels (multi-label task)');

export const exampleJson = (kind: TaskKind, e: ExampleRecord): z.infer<typeof exampleOut> => ({
  id: e.id,
  object: 'example',
  text: e.text,
  ...(kind === 'multi_label' ? { labels: labelsOfKey(e.label) } : { label: e.label }),
  created_at: iso(e.createdAt)!,
});

/** The label (a multi-label task: the label set's key) as the store keeps it; refuses the field the task's kind does not take. */
export function storedLabel(task: { kind: TaskKind }, body: z.infer<typeof labelBody>): string {
  const multi = task.kind === 'multi_label';
  if (multi !== (body.labels !== undefined))
    throw new DomainError(
      'invalid_value',
      multi ? 'this task is multi-label: send labels, a list' : 'this task is single-label: send label',
      multi ? 'label' : 'labels',
    );
  return body.labels ? labelSetKey(body.labels) : body.label!;
}
