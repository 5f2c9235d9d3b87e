/** Examples as the API returns them: one example, an upload's outcome, a deletion's count. */
import { z } from 'zod';

export const exampleOut = z.object({
  id: z
    .number()
    .int()
    .describe("Its number in its task: 1, 2, … in upload order, never reused. Ids are the task's own: they say nothing of other tasks or clients."),
  object: z.literal('example'),
  text: z.string(),
  label: z.string().optional().describe('Single-label tasks.'),
  labels: z.array(z.string()).optional().describe('Multi-label tasks.'),
  created_at: z.string(),
});
export const uploadOut = z.object({
  object: z.literal('examples.upload'),
  format: z.enum(['json', 'jsonl', 'csv']),
  received: z.number().int(),
  inserted: z.number().int(),
  duplicates: z.number().int().describe('Records of a text already present, or earlier in the upload, with the same label (set).'),
  merged: z
    .number()
    .int()
    .describe('Multi-label tasks: records of a text earlier in the upload with another label set, their labels added to that set (one example, the union).'),
  skipped: z.number().int().describe('Records with another label than the text has, left out (on_conflict=skip).'),
  relabelled: z.number().int().describe('Stored texts given the label of the upload (on_conflict=replace).'),
  example_count: z.number().int().describe('Examples in the task after the upload.'),
  retrain_job: z.string().nullable().describe("The training job this upload queued by itself (it took the task's new examples to its retrain_after), or null."),
});
export const deletionOut = z.object({
  object: z.literal('examples.deletion'),
  deleted: z.number().int().describe('Examples deleted.'),
  relabelled: z
    .number()
    .int()
    .describe('Multi-label tasks, deleting by label: examples that lost the label and kept their others (an example left with no label is deleted).'),
});
