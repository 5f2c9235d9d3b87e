/** Tasks: a named classification problem with a feature spec, owned by a tenant. */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { specToJson } from '../../encoder/feature-spec.js';
import type { ModelRegistry } from '../../encoder/registry.js';
import type { Store, TaskRecord } from '../../store/types.js';
import { DomainError } from '../../errors.js';
import { specFor } from '../encoding.js';
import type { Operation } from '../openapi.js';
import { featureSpecOut, iso, listEnvelope, pageQuery } from '../schemas/common.js';
import { featureSpecFields } from '../schemas/feature-spec.js';
import { tenantOf } from '../tenant.js';
import { jsonBody, parse } from '../validate.js';

const name = z.string().trim().min(1, 'must not be empty').max(200).describe('Unique within the tenant.');
const description = z.string().max(2000).nullable().optional();
const featureSpec = z
  .object(featureSpecFields)
  .strict()
  .describe('How texts become features: the same options as /v1/embeddings. Default: last layer, mean pooling, normalized.');

export const createTaskBody = z.object({ name, description, feature_spec: featureSpec.optional() }).strict();
export const updateTaskBody = z
  .object({ name: name.optional(), description, feature_spec: featureSpec.optional() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one of name, description, feature_spec');

export const taskOut = z.object({
  id: z.string(),
  object: z.literal('task'),
  name: z.string(),
  description: z.string().nullable(),
  feature_spec: featureSpecOut,
  example_count: z.number().int(),
  active_version: z.number().int().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  label_counts: z.record(z.string(), z.number().int()).optional(),
});

export function taskJson(t: TaskRecord, labelCounts?: Map<string, number>): z.infer<typeof taskOut> {
  return {
    id: t.id,
    object: 'task',
    name: t.name,
    description: t.description,
    feature_spec: specToJson(t.spec),
    example_count: t.exampleCount,
    active_version: t.activeVersion,
    created_at: iso(t.createdAt)!,
    updated_at: iso(t.updatedAt)!,
    ...(labelCounts ? { label_counts: Object.fromEntries(labelCounts) } : {}),
  };
}

export const tasksOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/tasks',
    tag: 'tasks',
    summary: 'Create a task.',
    body: createTaskBody,
    responses: { 201: { description: 'Created.', schema: taskOut } },
  },
  {
    method: 'get',
    path: '/v1/tasks',
    tag: 'tasks',
    summary: 'List tasks.',
    query: pageQuery,
    responses: { 200: { description: 'A page of tasks.', schema: listEnvelope(taskOut) } },
  },
  {
    method: 'get',
    path: '/v1/tasks/:task',
    tag: 'tasks',
    summary: 'A task, with its label counts.',
    responses: { 200: { description: 'The task.', schema: taskOut } },
  },
  {
    method: 'patch',
    path: '/v1/tasks/:task',
    tag: 'tasks',
    summary: 'Rename, describe, or change the feature spec (used by later trainings; versions keep theirs).',
    body: updateTaskBody,
    responses: { 200: { description: 'Updated.', schema: taskOut } },
  },
  {
    method: 'delete',
    path: '/v1/tasks/:task',
    tag: 'tasks',
    summary: 'Delete a task with its examples, jobs and versions.',
    responses: { 204: { description: 'Deleted.' } },
  },
];

/** Loads the task named in the path for the request's tenant, or 404. */
export async function taskOr404(store: Store, req: Request): Promise<TaskRecord> {
  const id = String(req.params.task);
  const task = await store.getTask(tenantOf(req), id);
  if (!task) throw new DomainError('task_not_found', `task "${id}" does not exist`, 'task');
  return task;
}

export function tasksRouter(store: Store, models: ModelRegistry): Router {
  const router = Router();
  router.post('/v1/tasks', async (req, res) => {
    const body = parse(createTaskBody, jsonBody(req.body));
    const { spec } = specFor(models, body.feature_spec ?? {}, 'feature_spec.');
    const task = await store.createTask({ tenantId: tenantOf(req), name: body.name, description: body.description ?? null, spec });
    res.status(201).location(`/v1/tasks/${task.id}`).json(taskJson(task));
  });
  router.get('/v1/tasks', async (req, res) => {
    const q = parse(pageQuery, req.query, 'query');
    const page = await store.listTasks(tenantOf(req), q.limit, q.after);
    res.json({ object: 'list', data: page.items.map((t) => taskJson(t)), has_more: page.next !== null, next_after: page.next });
  });
  router.get('/v1/tasks/:task', async (req, res) => {
    const task = await taskOr404(store, req);
    res.json(taskJson(task, await store.labelCounts(task.tenantId, task.id)));
  });
  router.patch('/v1/tasks/:task', async (req, res) => {
    const task = await taskOr404(store, req);
    const body = parse(updateTaskBody, jsonBody(req.body));
    const spec = body.feature_spec ? specFor(models, body.feature_spec, 'feature_spec.').spec : undefined;
    const updated = await store.updateTask(task.tenantId, task.id, {
      name: body.name,
      ...(body.description !== undefined ? { description: body.description } : {}),
      spec,
    });
    if (!updated) throw new DomainError('task_not_found', `task "${task.id}" does not exist`, 'task');
    res.json(taskJson(updated));
  });
  router.delete('/v1/tasks/:task', async (req, res) => {
    const task = await taskOr404(store, req);
    await store.deleteTask(task.tenantId, task.id);
    res.status(204).end();
  });
  return router;
}
