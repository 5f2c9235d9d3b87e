/** Examples of a task: bulk uploads (JSON array, JSON Lines, CSV; streamed), paging, relabelling, deletion. */
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { textHash } from '../../store/ids.js';
import type { ExampleRecord, Store } from '../../store/types.js';
import { DomainError } from '../../errors.js';
import type { Operation } from '../openapi.js';
import { iso, listEnvelope } from '../schemas/common.js';
import { readUpload, UPLOAD_MEDIA_TYPES, type UploadLimits } from '../uploads.js';
import { jsonBody, parse } from '../validate.js';
import { taskOr404 } from './tasks.js';

const label = z.string().trim().min(1, 'must not be empty').max(200);

export const uploadQuery = z
  .object({
    on_conflict: z
      .enum(['error', 'skip', 'replace'])
      .default('error')
      .describe('A text already in the task with another label: error (default: reject the upload), skip (keep the stored label), replace (take the new one).'),
  })
  .strict();
export const uploadRecord = z
  .object({ text: z.string().min(1), label })
  .describe('One example; upload a JSON array of these, JSON Lines, or CSV with a "text,label" header.');
export const listExamplesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    after: z.coerce.number().int().min(0).optional().describe('Return examples with an id greater than this.'),
    label: z.string().min(1).optional(),
  })
  .strict();
export const deleteExamplesQuery = z
  .object({ label: z.string().min(1).optional(), all: z.enum(['true']).optional() })
  .strict()
  .refine((q) => q.label !== undefined || q.all === 'true', 'name a label to delete, or pass all=true to delete every example');
export const relabelBody = z.object({ label }).strict();

export const exampleOut = z.object({ id: z.number().int(), object: z.literal('example'), text: z.string(), label: z.string(), created_at: z.string() });
export const uploadOut = z.object({
  object: z.literal('examples.upload'),
  format: z.enum(['json', 'jsonl', 'csv']),
  received: z.number().int(),
  inserted: z.number().int(),
  duplicates: z.number().int().describe('Texts already present (or repeated in the upload) with the same label.'),
  skipped: z.number().int(),
  relabelled: z.number().int(),
  example_count: z.number().int(),
});

const exampleJson = (e: ExampleRecord): z.infer<typeof exampleOut> => ({
  id: e.id,
  object: 'example',
  text: e.text,
  label: e.label,
  created_at: iso(e.createdAt)!,
});

export const examplesOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/tasks/:task/examples',
    tag: 'examples',
    summary: 'Add examples in bulk (all-or-nothing; duplicates detected).',
    body: z.array(uploadRecord),
    alternateMediaTypes: UPLOAD_MEDIA_TYPES.filter((t) => t !== 'application/json'),
    query: uploadQuery,
    responses: { 201: { description: 'Added.', schema: uploadOut }, 409: { description: 'A text is already present with another label (on_conflict=error).' } },
  },
  {
    method: 'get',
    path: '/v1/tasks/:task/examples',
    tag: 'examples',
    summary: 'List examples by id.',
    query: listExamplesQuery,
    responses: { 200: { description: 'A page.', schema: listEnvelope(exampleOut) } },
  },
  {
    method: 'get',
    path: '/v1/tasks/:task/examples/:example',
    tag: 'examples',
    summary: 'One example.',
    responses: { 200: { description: 'The example.', schema: exampleOut } },
  },
  {
    method: 'patch',
    path: '/v1/tasks/:task/examples/:example',
    tag: 'examples',
    summary: "Replace an example's label.",
    body: relabelBody,
    responses: { 200: { description: 'Updated.', schema: exampleOut } },
  },
  {
    method: 'delete',
    path: '/v1/tasks/:task/examples/:example',
    tag: 'examples',
    summary: 'Delete one example.',
    responses: { 204: { description: 'Deleted.' } },
  },
  {
    method: 'delete',
    path: '/v1/tasks/:task/examples',
    tag: 'examples',
    summary: 'Delete the examples of a label, or all of them (all=true).',
    query: deleteExamplesQuery,
    responses: { 200: { description: 'How many were deleted.' } },
  },
];

function exampleId(raw: unknown): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) throw new DomainError('example_not_found', `example "${String(raw)}" does not exist`, 'example');
  return id;
}

/** Mounted before the app's JSON body parser: the upload route reads its body as a stream. */
export function examplesRouter(store: Store, limits: UploadLimits, json: RequestHandler): Router {
  const router = Router();
  router.post('/v1/tasks/:task/examples', async (req, res) => {
    const task = await taskOr404(store, req);
    const { on_conflict: policy } = parse(uploadQuery, req.query, 'query');
    const { examples, format } = await readUpload(req, limits);
    const result = await store.addExamples(
      task.tenantId,
      task.id,
      examples.map((e) => ({ ...e, textHash: textHash(e.text) })),
      policy,
    );
    if (result.conflicts.length) {
      throw new DomainError(
        'label_conflict',
        `${result.conflicts.length > 1 ? 'texts are' : 'a text is'} already in the task with another label; nothing was added (on_conflict=skip keeps the stored labels, replace takes the new ones). First: "${result.conflicts[0]!.text.slice(0, 80)}" is "${result.conflicts[0]!.existingLabel}", upload says "${result.conflicts[0]!.newLabel}"`,
        'on_conflict',
        { conflicts: result.conflicts.map((c) => ({ text: c.text, existing_label: c.existingLabel, new_label: c.newLabel })) },
      );
    }
    const after = await store.getTask(task.tenantId, task.id);
    const body: z.infer<typeof uploadOut> = {
      object: 'examples.upload',
      format,
      received: examples.length,
      inserted: result.inserted,
      duplicates: result.duplicates,
      skipped: result.skipped,
      relabelled: result.relabelled,
      example_count: after?.exampleCount ?? 0,
    };
    res.status(result.inserted > 0 ? 201 : 200).json(body);
  });
  router.get('/v1/tasks/:task/examples', async (req, res) => {
    const task = await taskOr404(store, req);
    const q = parse(listExamplesQuery, req.query, 'query');
    const page = await store.listExamples(task.tenantId, task.id, { limit: q.limit, after: q.after, label: q.label });
    res.json({ object: 'list', data: page.items.map(exampleJson), has_more: page.next !== null, next_after: page.next });
  });
  router.get('/v1/tasks/:task/examples/:example', async (req, res) => {
    const task = await taskOr404(store, req);
    const e = await store.getExample(task.tenantId, task.id, exampleId(req.params.example));
    if (!e) throw new DomainError('example_not_found', `example ${req.params.example} does not exist in task ${task.id}`, 'example');
    res.json(exampleJson(e));
  });
  router.patch('/v1/tasks/:task/examples/:example', json, async (req, res) => {
    const task = await taskOr404(store, req);
    const body = parse(relabelBody, jsonBody(req.body));
    const e = await store.relabelExample(task.tenantId, task.id, exampleId(req.params.example), body.label);
    if (!e) throw new DomainError('example_not_found', `example ${req.params.example} does not exist in task ${task.id}`, 'example');
    res.json(exampleJson(e));
  });
  router.delete('/v1/tasks/:task/examples/:example', async (req, res) => {
    const task = await taskOr404(store, req);
    if (!(await store.deleteExample(task.tenantId, task.id, exampleId(req.params.example)))) {
      throw new DomainError('example_not_found', `example ${req.params.example} does not exist in task ${task.id}`, 'example');
    }
    res.status(204).end();
  });
  router.delete('/v1/tasks/:task/examples', async (req, res) => {
    const task = await taskOr404(store, req);
    const q = parse(deleteExamplesQuery, req.query, 'query');
    if (q.label !== undefined && q.all === 'true') throw new DomainError('invalid_value', 'pass either label or all=true, not both', 'all');
    const deleted = await store.deleteExamples(task.tenantId, task.id, q.label);
    res.json({ object: 'examples.deletion', deleted });
  });
  return router;
}
