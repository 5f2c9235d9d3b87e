/**
 * A task's pool of unlabelled texts: added (deduplicated against the task's
 * examples and the pool), listed, deleted, and labelled one at a time (the
 * text moves to the examples). Suggestions take candidates from it
 * (./suggestions.ts), and zero-shot prediction learns the labels' balance on
 * it (GET …/prior, src/serving/prior-estimates.ts).
 */
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import type { PredictionService } from '../../serving/predictions.js';
import { textHash } from '../../store/ids.js';
import { countsByLabel } from '../../store/label-set.js';
import type { PoolTextRecord, Store, TaskRecord } from '../../store/types.js';
import { taskOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { idPageFields, iso, listEnvelope, listJson } from '../schemas/common.js';
import { exampleOut } from '../schemas/example.js';
import { poolTextParam, taskParam } from '../schemas/params.js';
import { labelPriorOut, poolDeletionOut, poolTextOut, poolUploadOut } from '../schemas/pool.js';
import { type TextLimits, textInput, texts } from '../schemas/text-input.js';
import { exampleJson, labelBody, storedLabel } from '../example-labels.js';
import { MIN_PRIOR_TEXTS } from '../../serving/prior-estimates.js';

const addBody = (limits: TextLimits) => z.object({ input: textInput(limits, { storable: true }).describe('Unlabelled texts to add.') }).strict();

const listQuery = z.object(idPageFields('pool texts')).strict();

const poolTextJson = (t: PoolTextRecord): z.infer<typeof poolTextOut> => ({ id: t.id, object: 'pool_text', text: t.text, created_at: iso(t.createdAt)! });

const notFound = (id: number, taskId: string) => new DomainError('pool_text_not_found', `pool text ${id} does not exist in task ${taskId}`, 'pool_text');

/**
 * A task that declares its labels takes only labels it has (declared, or on an example) for a pool text: a
 * labelling loop's typo would otherwise make a label of its own. A task that declares none takes any, as uploads do.
 */
async function checkKnownLabels(store: Store, task: TaskRecord, labels: string[], param: string): Promise<void> {
  if (!task.labels.length) return;
  const known = new Set(task.labels.map((l) => l.name));
  if (labels.every((l) => known.has(l))) return;
  for (const l of countsByLabel(task.kind, await store.labelCounts(task.clientId, task.id)).keys()) known.add(l);
  const unknown = labels.find((l) => !known.has(l));
  if (unknown === undefined) return;
  const some = [...known].slice(0, 20).map((l) => `"${l}"`);
  throw new DomainError(
    'unknown_label',
    `task ${task.id} has no label "${unknown}" (it has ${some.join(', ')}${known.size > 20 ? ', …' : ''}); add an example of a new label first`,
    param,
  );
}

export function poolRoutes(store: Store, predictions: PredictionService, limits: TextLimits): Route[] {
  return [
    route({
      method: 'post',
      path: '/v1/tasks/:task/pool',
      tag: 'pool',
      scope: 'train',
      summary: "Add unlabelled texts to the task's pool (texts it has as examples, or already pooled, are left out).",
      description:
        "Pool texts count in the client's quotas as examples do (max_examples counts examples and pool texts together; max_stored_bytes their bytes). All or nothing.",
      params: { task: taskParam },
      body: addBody(limits),
      responses: {
        201: { description: 'Added (at least one new text).', schema: poolUploadOut },
        200: { description: 'Nothing new: every text was labelled or pooled already.', schema: poolUploadOut },
        403: { description: "quota_exceeded: the client's stored texts or bytes would pass its limit; nothing was added." },
      },
      handler: async ({ params, body, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const given = texts(body.input);
        const result = await store.addPoolTexts(
          task.clientId,
          task.id,
          given.map((text) => ({ text, textHash: textHash(text) })),
        );
        if (result.added) predictions.invalidate(task.clientId, task.id);
        const after = await store.getTask(task.clientId, task.id);
        res.status(result.added > 0 ? 201 : 200).json({
          object: 'pool.upload',
          received: given.length,
          added: result.added,
          skipped: { labelled: result.labelled, pooled: result.pooled, repeated: result.repeated },
          pool_count: after?.poolCount ?? 0,
        } satisfies z.infer<typeof poolUploadOut>);
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/pool',
      tag: 'pool',
      scope: 'read',
      summary: "List the task's pool by id.",
      params: { task: taskParam },
      query: listQuery,
      responses: { 200: { description: 'A page.', schema: listEnvelope(poolTextOut) } },
      handler: async ({ params, query, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const page = await store.listPool(task.clientId, task.id, { limit: query.limit, after: query.after });
        res.json(listJson(page.items.map(poolTextJson), page.next));
      },
    }),
    route({
      method: 'delete',
      path: '/v1/tasks/:task/pool/:pool_text',
      tag: 'pool',
      scope: 'train',
      summary: 'Delete one pool text.',
      params: { task: taskParam, pool_text: poolTextParam },
      responses: { 204: { description: 'Deleted.' } },
      handler: async ({ params, client, res }) => {
        const task = await taskOf(store, client, params.task);
        if (!(await store.deletePoolText(task.clientId, task.id, params.pool_text))) throw notFound(params.pool_text, task.id);
        predictions.invalidate(task.clientId, task.id);
        res.status(204).end();
      },
    }),
    route({
      method: 'delete',
      path: '/v1/tasks/:task/pool',
      tag: 'pool',
      scope: 'train',
      summary: "Empty the task's pool.",
      params: { task: taskParam },
      responses: { 200: { description: 'How many texts were deleted.', schema: poolDeletionOut } },
      handler: async ({ params, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const deleted = await store.clearPool(task.clientId, task.id);
        if (deleted) predictions.invalidate(task.clientId, task.id);
        res.json({ object: 'pool.deletion', deleted } satisfies z.infer<typeof poolDeletionOut>);
      },
    }),
    route({
      method: 'post',
      path: '/v1/tasks/:task/pool/:pool_text/label',
      tag: 'pool',
      scope: 'train',
      summary: 'Label a pool text: it leaves the pool and becomes an example, in one transaction.',
      description:
        'A task that declares its labels takes only labels it has (declared, or on an example): 400 unknown_label for another. A task that declares none takes any label, as uploads do.',
      params: { task: taskParam, pool_text: poolTextParam },
      body: labelBody,
      responses: {
        201: { description: 'The new example.', schema: exampleOut },
        400: { description: 'invalid_value: label in a multi-label task or labels in a single-label one; unknown_label; too_many_labels.' },
        404: { description: 'pool_text_not_found: no such pool text (labelled or deleted meanwhile).' },
      },
      handler: async ({ params, body, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const label = storedLabel(task, body);
        await checkKnownLabels(store, task, body.labels ?? [body.label!], body.labels ? 'labels' : 'label');
        const example = await store.labelPoolText(task.clientId, task.id, params.pool_text, label);
        if (!example) throw notFound(params.pool_text, task.id);
        predictions.invalidate(task.clientId, task.id);
        res.status(201).json(exampleJson(task.kind, example));
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/prior',
      tag: 'pool',
      scope: 'read',
      summary: "The labels' prior estimated on the task's pool, which zero-shot prediction (version 0) applies.",
      description: `Estimated from version 0's probabilities on the pool (${MIN_PRIOR_TEXTS} texts or more) by EM (Saerens, Latinne & Decaestecker, 2002), in the background: a request finding it out of date starts a new estimate and is answered at once (state estimating). Single-label tasks only.`,
      params: { task: taskParam },
      responses: { 200: { description: 'The prior, or why there is none.', schema: labelPriorOut } },
      handler: async ({ params, client, res }) => {
        const { task, state, prior, reason } = await predictions.prior(client, params.task);
        res.json({
          object: 'label_prior',
          task: task.id,
          state,
          applied: prior !== undefined && task.activeVersion === null,
          prior: prior ? Object.fromEntries(prior.labels.map((l, i) => [l, Math.round(prior.prior[i]! * 1e6) / 1e6])) : null,
          pool_texts: prior?.poolTexts ?? null,
          iterations: prior?.iterations ?? null,
          estimated_at: prior ? iso(prior.estimatedAt) : null,
          pool_count: task.poolCount,
          reason,
        } satisfies z.infer<typeof labelPriorOut>);
      },
    }),
  ];
}
