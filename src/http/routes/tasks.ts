/** Tasks: a named classification problem with a feature spec, owned by a client. */
import { z } from 'zod';
import type { ModelRegistry } from '../../encoder/registry.js';
import { DomainError } from '../../errors.js';
import type { DeclaredLabel, Store, TaskRecord } from '../../store/types.js';
import { specFor } from '../encoding.js';
import { taskOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { listEnvelope, listJson, pageQuery, taskKind } from '../schemas/common.js';
import { featureSpecFields } from '../schemas/feature-spec.js';
import { taskParam } from '../schemas/params.js';
import { stored } from '../schemas/stored-text.js';
import { taskOut } from '../schemas/task.js';
import { taskJson } from '../resource-json.js';
import { countsByLabel } from '../../store/label-set.js';
import type { AnyHead } from '../../heads/registry.js';
import { normalizeRequest, trainingRequestSchemaOf } from '../../training/request.js';

const name = stored(z.string().trim().min(1, 'must not be empty').max(200)).describe('Unique within the client.');
const description = stored(z.string().max(2000)).nullable().optional();
const featureSpec = z
  .object(featureSpecFields)
  .strict()
  .describe('How texts become features: the same options as /v1/embeddings. Default: last layer, mean pooling, normalized.');

/** Most labels a task may declare. */
const MAX_DECLARED_LABELS = 10_000;

const labelName = stored(z.string().trim().min(1, 'must not be empty').max(200));
const labelDescription = stored(z.string().trim().min(1, 'must not be empty').max(1000));

/** Most new examples retrain_after may wait for. */
const MAX_RETRAIN_AFTER = 1_000_000;

const createTaskBody = z
  .object({
    name,
    description,
    feature_spec: featureSpec.optional(),
    labels: z
      .array(z.object({ name: labelName, description: labelDescription.optional().describe('A line saying what the label means.') }).strict())
      .max(MAX_DECLARED_LABELS)
      .optional()
      .describe(
        'Declare the labels, with descriptions: an untrained single-label task with two or more predicts zero-shot (version 0) from the similarity of a text to each description (or name).',
      ),
    kind: taskKind
      .default('single_label')
      .describe(
        'single_label: each example has one label (`label`); multi_label: a set of labels (`labels`), each predicted with its own probability and threshold. Fixed for the life of the task.',
      ),
  })
  .strict();
const updateTaskBody = z
  .object({
    name: name.optional(),
    description,
    feature_spec: featureSpec.optional(),
    label_descriptions: z
      .record(labelName, labelDescription.nullable())
      .optional()
      .describe('Describe labels the task has (declared, or with examples): {label: description}; null removes a description.'),
    retrain_after: z
      .number()
      .int()
      .min(1)
      .max(MAX_RETRAIN_AFTER)
      .nullable()
      .optional()
      .describe(
        "Train again by itself once this many new examples were added since the task's last training job was queued (or since this was turned on): the upload that reaches it queues a job with the request of the task's last successful job (before any, the default request). null (the default) turns it off.",
      ),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one of name, description, feature_spec, label_descriptions, retrain_after');

/** What a task's retrain_after needs to queue a job: the head registry (its default request) and the attempts a job gets. */
export interface RetrainDeps {
  heads: readonly AnyHead[];
  maxAttempts: number;
}

export function tasksRoutes(store: Store, models: ModelRegistry, retrain: RetrainDeps): Route[] {
  /** The task's declared labels with `descriptions` applied; a label neither declared nor in its examples is refused. */
  const describedLabels = async (task: TaskRecord, descriptions: Record<string, string | null>): Promise<DeclaredLabel[]> => {
    const labels = task.labels.map((l) => ({ ...l }));
    const counts = countsByLabel(task.kind, await store.labelCounts(task.clientId, task.id));
    for (const [name, description] of Object.entries(descriptions)) {
      const declared = labels.find((l) => l.name === name);
      if (declared) declared.description = description;
      else if (counts.has(name)) labels.push({ name, description });
      else
        throw new DomainError(
          'unknown_label',
          `task ${task.id} has no label "${name}": neither declared nor on an example (declare labels when creating the task, or add examples of it)`,
          `label_descriptions.${name}`,
        );
    }
    return labels;
  };
  return [
    route({
      method: 'post',
      path: '/v1/tasks',
      tag: 'tasks',
      scope: 'train',
      summary: 'Create a task.',
      body: createTaskBody,
      responses: {
        201: { description: 'Created.', schema: taskOut, headers: { Location: 'The new task.' } },
        409: { description: 'The name is taken.' },
      },
      handler: async ({ body, client, res }) => {
        const { spec } = specFor(models, body.feature_spec ?? {}, 'feature_spec.');
        const declared = (body.labels ?? []).map((l) => ({ name: l.name, description: l.description ?? null }));
        const seen = new Set<string>();
        for (const [i, l] of declared.entries()) {
          if (seen.has(l.name)) throw new DomainError('invalid_value', `label "${l.name}" is declared twice`, `labels[${i}].name`);
          seen.add(l.name);
        }
        const task = await store.createTask({
          clientId: client,
          name: body.name,
          description: body.description ?? null,
          spec,
          kind: body.kind,
          labels: declared,
        });
        res.status(201).location(`/v1/tasks/${task.id}`).json(taskJson(task));
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks',
      tag: 'tasks',
      scope: 'read',
      summary: 'List tasks, oldest first.',
      query: pageQuery,
      responses: { 200: { description: 'A page of tasks.', schema: listEnvelope(taskOut) } },
      handler: async ({ query, client, res }) => {
        const page = await store.listTasks(client, query.limit, query.after);
        res.json(
          listJson(
            page.items.map((t) => taskJson(t)),
            page.next,
          ),
        );
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task',
      tag: 'tasks',
      scope: 'read',
      summary: 'A task, with its label counts.',
      params: { task: taskParam },
      responses: { 200: { description: 'The task.', schema: taskOut } },
      handler: async ({ params, client, res }) => {
        const task = await taskOf(store, client, params.task);
        res.json(taskJson(task, countsByLabel(task.kind, await store.labelCounts(task.clientId, task.id))));
      },
    }),
    route({
      method: 'patch',
      path: '/v1/tasks/:task',
      tag: 'tasks',
      scope: 'train',
      summary: 'Rename, describe, change the feature spec (used by later trainings; versions keep theirs), or set retrain_after.',
      params: { task: taskParam },
      body: updateTaskBody,
      responses: { 200: { description: 'Updated.', schema: taskOut }, 409: { description: 'The new name is taken.' } },
      handler: async ({ params, body, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const spec = body.feature_spec ? specFor(models, body.feature_spec, 'feature_spec.').spec : undefined;
        const labels = body.label_descriptions ? await describedLabels(task, body.label_descriptions) : undefined;
        // Before any job of the task succeeds, retrain_after trains with what POST …/jobs with no body would.
        const retrainDefault = body.retrain_after
          ? { request: normalizeRequest(trainingRequestSchemaOf(retrain.heads).parse({}), task.kind, retrain.heads), maxAttempts: retrain.maxAttempts }
          : undefined;
        const updated = await store.updateTask(task.clientId, task.id, {
          name: body.name,
          ...(body.description !== undefined ? { description: body.description } : {}),
          spec,
          ...(labels ? { labels } : {}),
          ...(body.retrain_after !== undefined ? { retrainAfter: body.retrain_after } : {}),
          ...(retrainDefault ? { retrainDefault } : {}),
        });
        if (!updated) throw new DomainError('task_not_found', `task "${task.id}" does not exist`, 'task');
        res.json(taskJson(updated));
      },
    }),
    route({
      method: 'delete',
      path: '/v1/tasks/:task',
      tag: 'tasks',
      scope: 'train',
      summary: 'Delete a task with its examples, jobs and versions.',
      params: { task: taskParam },
      responses: { 204: { description: 'Deleted.' } },
      handler: async ({ params, client, res }) => {
        const task = await taskOf(store, client, params.task);
        await store.deleteTask(task.clientId, task.id);
        res.status(204).end();
      },
    }),
  ];
}
