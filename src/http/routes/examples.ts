/** Examples of a task: bulk uploads (JSON array, JSON Lines, CSV; streamed), paging, relabelling, deletion. */
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import { textHash } from '../../store/ids.js';
import type { AddExamplesResult, Store } from '../../store/types.js';
import { taskOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { idPageFields, listEnvelope, listJson } from '../schemas/common.js';
import { deletionOut, exampleOut, uploadOut } from '../schemas/example.js';
import { exampleParam, taskParam } from '../schemas/params.js';
import { MAX_EXPANSION } from '../body.js';
import { stored } from '../schemas/stored-text.js';
import { LABEL_SEPARATOR, MAX_LABELS_PER_EXAMPLE, readUpload, UPLOAD_MEDIA_TYPES, type UploadLimits } from '../uploads.js';
import { exampleJson, labelBody, storedLabel } from '../example-labels.js';

const uploadQuery = z
  .object({
    on_conflict: z
      .enum(['error', 'skip', 'replace'])
      .default('error')
      .describe(
        'A text already in the task with another label, or (single-label tasks) repeated in the upload with another label: error (default: reject the whole upload), skip (keep the label it has; within an upload the first), replace (take the new one; within an upload the last). In a multi-label task, a text repeated in the upload with other label sets is one example with the union of its sets, whatever on_conflict says; the union then meets the task as one record would.',
      ),
  })
  .strict();

/** What uploads.ts accepts for one record, for the document (it validates records itself, as they stream in). */
function uploadRecord(limits: UploadLimits) {
  const text = z.string().min(1).max(limits.maxTextChars).describe('Not blank.');
  const one = z.string().min(1).max(limits.maxLabelChars);
  return z.union([
    z.object({ text, label: one.describe('Not blank. Single-label tasks.') }).strict(),
    z
      .object({
        text,
        labels: z
          .array(one)
          .min(1)
          .max(MAX_LABELS_PER_EXAMPLE)
          .describe(`Multi-label tasks: the example's labels, at least one (CSV: a labels column, "${LABEL_SEPARATOR}" between labels).`),
      })
      .strict(),
  ]);
}

const listExamplesQuery = z
  .object({
    ...idPageFields('examples'),
    label: stored(z.string().min(1)).optional().describe('Only examples with this label (multi-label tasks: whose set holds it).'),
  })
  .strict();
const deleteExamplesQuery = z
  .object({
    label: stored(z.string().min(1))
      .optional()
      .describe(
        'Delete the examples with this label. Multi-label tasks: the label is taken off every example that has it, and an example left with no label is deleted.',
      ),
    all: z.enum(['true']).optional().describe('Delete every example of the task.'),
  })
  .strict()
  .refine((q) => q.label !== undefined || q.all === 'true', 'name a label to delete, or pass all=true to delete every example');

const notFound = (id: number, taskId: string) => new DomainError('example_not_found', `example ${id} does not exist in task ${taskId}`, 'example');

const someTexts = (n: number) => (n > 1 ? 'texts are' : 'a text is');
const quote = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);

/** 409 for an upload refused under on_conflict=error: texts it repeats with another label (first), or that the task holds with another. */
function conflictError({ conflicts, repeats }: AddExamplesResult): DomainError {
  let message: string;
  if (repeats.length) {
    const r = repeats[0]!;
    message =
      `${someTexts(repeats.length)} repeated within the upload with another label; nothing was added (on_conflict=skip keeps each text's first label, replace its last). ` +
      `First: ${quote(r.text)} is "${r.firstLabel}" at ${r.firstAt} and "${r.label}" at ${r.at}` +
      (conflicts.length ? `; also, ${someTexts(conflicts.length)} already in the task with another label` : '');
  } else {
    const c = conflicts[0]!;
    message =
      `${someTexts(conflicts.length)} already in the task with another label; nothing was added (on_conflict=skip keeps the stored labels, replace takes the new ones). ` +
      `First: ${quote(c.text)} is "${c.existingLabel}", upload says "${c.newLabel}"`;
  }
  return new DomainError('label_conflict', message, 'on_conflict', {
    conflicts: conflicts.map((c) => ({ text: c.text, existing_label: c.existingLabel, new_label: c.newLabel })),
    repeats: repeats.map((r) => ({ text: r.text, first_label: r.firstLabel, first_at: r.firstAt, label: r.label, at: r.at })),
  });
}

/** `wake`: tells the local runner a job is waiting (an upload that reached the task's retrain_after queued one). */
export function examplesRoutes(store: Store, limits: UploadLimits, wake: () => void): Route[] {
  return [
    route({
      method: 'post',
      path: '/v1/tasks/:task/examples',
      tag: 'examples',
      scope: 'train',
      summary: 'Add examples in bulk (all-or-nothing; duplicates detected).',
      params: { task: taskParam },
      query: uploadQuery,
      streamedBody: {
        mediaTypes: UPLOAD_MEDIA_TYPES,
        schema: z.array(uploadRecord(limits)),
        description: `A JSON array of {text, label}, JSON Lines of the same objects, or CSV whose header names the columns text and label; optionally gzip or deflate Content-Encoding (expanding at most ${MAX_EXPANSION}× past the first MiB). At most ${limits.maxExamples} records (valid or not) and ${limits.maxBytes} bytes (sent, and decompressed).`,
        maxBytes: limits.maxBytes,
      },
      responses: {
        201: { description: 'Added (at least one new example).', schema: uploadOut },
        200: { description: 'Nothing new: every text was already present, or skipped.', schema: uploadOut },
        409: {
          description:
            'label_conflict (on_conflict=error): a text already in the task with another label, or, in a single-label task, repeated in the upload with another label; nothing was added. The error lists the first 20 of each: conflicts [{text, existing_label, new_label}] and repeats [{text, first_label, first_at, label, at}].',
        },
        408: { description: 'The body did not arrive in time.' },
        413: { description: 'Too many examples, or too many bytes (announced, sent or decompressed).' },
        415: { description: 'Not one of the upload media types, or an unsupported Content-Encoding.' },
      },
      handler: async ({ params, query, client, req, res }) => {
        const task = await taskOf(store, client, params.task);
        const { examples, format } = await readUpload(req, limits, task.kind);
        const result = await store.addExamples(
          task.clientId,
          task.id,
          examples.map((e) => ({ ...e, textHash: textHash(e.text) })),
          query.on_conflict,
        );
        if (result.conflicts.length || result.repeats.length) throw conflictError(result);
        if (result.retrainJob) wake();
        const after = await store.getTask(task.clientId, task.id);
        const body: z.infer<typeof uploadOut> = {
          object: 'examples.upload',
          format,
          received: examples.length,
          inserted: result.inserted,
          duplicates: result.duplicates,
          merged: result.merged,
          skipped: result.skipped,
          relabelled: result.relabelled,
          example_count: after?.exampleCount ?? 0,
          retrain_job: result.retrainJob?.id ?? null,
        };
        res.status(result.inserted > 0 ? 201 : 200).json(body);
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/examples',
      tag: 'examples',
      scope: 'read',
      summary: 'List examples by id.',
      params: { task: taskParam },
      query: listExamplesQuery,
      responses: { 200: { description: 'A page.', schema: listEnvelope(exampleOut) } },
      handler: async ({ params, query, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const page = await store.listExamples(task.clientId, task.id, { limit: query.limit, after: query.after, label: query.label });
        res.json(
          listJson(
            page.items.map((e) => exampleJson(task.kind, e)),
            page.next,
          ),
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/examples/:example',
      tag: 'examples',
      scope: 'read',
      summary: 'One example.',
      params: { task: taskParam, example: exampleParam },
      responses: { 200: { description: 'The example.', schema: exampleOut } },
      handler: async ({ params, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const e = await store.getExample(task.clientId, task.id, params.example);
        if (!e) throw notFound(params.example, task.id);
        res.json(exampleJson(task.kind, e));
      },
    }),
    route({
      method: 'patch',
      path: '/v1/tasks/:task/examples/:example',
      tag: 'examples',
      scope: 'train',
      summary: "Replace an example's label.",
      params: { task: taskParam, example: exampleParam },
      body: labelBody,
      responses: { 200: { description: 'Updated.', schema: exampleOut } },
      handler: async ({ params, body, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const e = await store.relabelExample(task.clientId, task.id, params.example, storedLabel(task, body));
        if (!e) throw notFound(params.example, task.id);
        res.json(exampleJson(task.kind, e));
      },
    }),
    route({
      method: 'delete',
      path: '/v1/tasks/:task/examples/:example',
      tag: 'examples',
      scope: 'train',
      summary: 'Delete one example.',
      params: { task: taskParam, example: exampleParam },
      responses: { 204: { description: 'Deleted.' } },
      handler: async ({ params, client, res }) => {
        const task = await taskOf(store, client, params.task);
        if (!(await store.deleteExample(task.clientId, task.id, params.example))) throw notFound(params.example, task.id);
        res.status(204).end();
      },
    }),
    route({
      method: 'delete',
      path: '/v1/tasks/:task/examples',
      tag: 'examples',
      scope: 'train',
      summary: 'Delete the examples of one label (multi-label: take the label off them), or all of them (all=true); not both.',
      params: { task: taskParam },
      query: deleteExamplesQuery,
      responses: { 200: { description: 'How many were deleted (and, multi-label, relabelled).', schema: deletionOut } },
      handler: async ({ params, query, client, res }) => {
        const task = await taskOf(store, client, params.task);
        if (query.label !== undefined && query.all === 'true') throw new DomainError('invalid_value', 'pass either label or all=true, not both', 'all');
        const { deleted, relabelled } = await store.deleteExamples(task.clientId, task.id, query.label);
        res.json({ object: 'examples.deletion', deleted, relabelled } satisfies z.infer<typeof deletionOut>);
      },
    }),
  ];
}
