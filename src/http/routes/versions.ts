/** Head versions: immutable results of training; one is active per task; rollback by activating another. */
import { z } from 'zod';
import { specToJson } from '../../encoder/feature-spec.js';
import { DomainError } from '../../errors.js';
import { DENSE_CONFUSION_LABELS } from '../../heads/evaluation.js';
import type { PredictionService } from '../../serving/predictions.js';
import type { Store, TaskRecord, VersionRecord } from '../../store/types.js';
import { taskOf, versionNotFound, versionOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { featureSpecOut, iso, listEnvelope } from '../schemas/common.js';
import { taskParam, versionParam } from '../schemas/params.js';
import { taskJson, taskOut } from '../schemas/task.js';

const versionFields = {
  object: z.literal('head_version'),
  task: z.string(),
  version: z.number().int(),
  active: z.boolean(),
  head_type: z.string(),
  params: z.unknown(),
  feature_spec: featureSpecOut,
  labels: z.array(z.string()),
  example_count: z.number().int(),
  training_ms: z.number(),
  artifact_bytes: z.number().int().describe('Size of the artifact JSON, uncompressed.'),
  job: z.string().nullable(),
  created_at: z.string(),
};
const versionOut = z.object({
  ...versionFields,
  metrics: z
    .unknown()
    .describe(
      `accuracy, macro_f1, per_label, confusion_matrix and n, with how they were measured: method, and folds and fold_accuracy or holdout_fraction. A multi-label version: kind "multi_label", micro_f1, macro_f1, subset_accuracy, hamming_loss, n, and per_label with each label's precision, recall, f1, support and the threshold its probability must reach (chosen by cross-validation; the scores are cross-fitted: each fold thresholded by values chosen on the others). confusion_matrix: {labels, matrix} (rows: true label, columns: predicted label) up to ${DENSE_CONFUSION_LABELS} labels; beyond, {labels, format: "sparse", cells: [[row, column, count], …]} with the non-zero cells only.`,
    ),
  report: z.unknown().describe('layer_sweep and search tables (when they ran), features (feature reuse), timings (per phase).'),
});
const versionSummaryOut = z.object({
  ...versionFields,
  metrics: z.union([
    z.object({ accuracy: z.number(), macro_f1: z.number(), method: z.string() }).strict(),
    z
      .object({ kind: z.literal('multi_label'), micro_f1: z.number(), macro_f1: z.number(), subset_accuracy: z.number(), method: z.string() })
      .strict()
      .describe('A multi-label version.'),
  ]),
});

function versionJson(v: VersionRecord, task: TaskRecord) {
  return {
    object: 'head_version' as const,
    task: v.taskId,
    version: v.number,
    active: task.activeVersion === v.number,
    head_type: v.headType,
    params: v.params,
    feature_spec: specToJson(v.spec),
    labels: v.labels,
    example_count: v.exampleCount,
    training_ms: v.trainingMs,
    artifact_bytes: v.artifactBytes,
    job: v.jobId,
    created_at: iso(v.createdAt)!,
  };
}

const versionDetail = (v: VersionRecord, task: TaskRecord): z.infer<typeof versionOut> => ({ ...versionJson(v, task), metrics: v.metrics, report: v.report });

function versionSummary(v: VersionRecord, task: TaskRecord): z.infer<typeof versionSummaryOut> {
  const m = v.metrics as { kind?: string; accuracy: number; macro_f1: number; micro_f1: number; subset_accuracy: number; method: string };
  const metrics =
    m.kind === 'multi_label'
      ? { kind: 'multi_label' as const, micro_f1: m.micro_f1, macro_f1: m.macro_f1, subset_accuracy: m.subset_accuracy, method: m.method }
      : { accuracy: m.accuracy, macro_f1: m.macro_f1, method: m.method };
  return { ...versionJson(v, task), metrics };
}

export function versionsRoutes(store: Store, predictions: PredictionService): Route[] {
  const params = { task: taskParam, version: versionParam };
  return [
    route({
      method: 'get',
      path: '/v1/tasks/:task/versions',
      tag: 'versions',
      scope: 'read',
      summary: 'List versions, oldest first, with their metrics summarised (no paging: every version is listed).',
      params: { task: taskParam },
      responses: { 200: { description: 'Every version.', schema: listEnvelope(versionSummaryOut) } },
      handler: async ({ params, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const versions = await store.listVersions(task.clientId, task.id);
        res.json({ object: 'list', data: versions.map((v) => versionSummary(v, task)), has_more: false, next_after: null });
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/versions/:version',
      tag: 'versions',
      scope: 'read',
      summary: 'A version with its full evaluation and training report.',
      params,
      responses: { 200: { description: 'The version.', schema: versionOut } },
      handler: async ({ params, client, res }) => {
        const { task, version } = await versionOf(store, client, params.task, params.version);
        res.json(versionDetail(version, task));
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/versions/:version/artifact',
      tag: 'versions',
      scope: 'read',
      summary:
        'The portable artifact: {format: "libsvm", model: LIBSVM model text, classes}, {format: "ml-random-forest", model: ml-random-forest JSON, classes, params} or {format: "softmax-linear", classes, dim, weights (classes × dim, row-major), bias}.',
      description: 'Sent gzip-compressed (Content-Encoding: gzip) when the client accepts gzip, as it is stored.',
      params,
      responses: { 200: { description: 'Artifact JSON.' } },
      handler: async ({ params, client, req, res }) => {
        const { task, version } = await versionOf(store, client, params.task, params.version);
        const bytes = await store.getArtifactBytes(task.clientId, task.id, version.number);
        if (!bytes) throw versionNotFound(task.id, version.number);
        // Stored gzip-compressed: pass it through when the client accepts gzip, as almost all do.
        if (req.acceptsEncodings('gzip')) res.set('Content-Encoding', 'gzip').type('application/json').send(Buffer.from(bytes));
        else res.json(await store.getArtifact(task.clientId, task.id, version.number));
      },
    }),
    route({
      method: 'post',
      path: '/v1/tasks/:task/versions/:version/activate',
      tag: 'versions',
      scope: 'train',
      summary: 'Make this version active (rollback or roll forward).',
      params,
      responses: { 200: { description: 'The task.', schema: taskOut } },
      handler: async ({ params, client, res }) => {
        const { task, version } = await versionOf(store, client, params.task, params.version);
        const updated = await store.activateVersion(task.clientId, task.id, version.number);
        if (!updated) throw versionNotFound(task.id, version.number);
        predictions.invalidate(task.clientId, task.id);
        res.json(taskJson(updated));
      },
    }),
    route({
      method: 'delete',
      path: '/v1/tasks/:task/versions/:version',
      tag: 'versions',
      scope: 'train',
      summary: 'Delete an inactive version.',
      params,
      responses: { 204: { description: 'Deleted.' }, 409: { description: 'The version is active.' } },
      handler: async ({ params, client, res }) => {
        const { task, version } = await versionOf(store, client, params.task, params.version);
        const outcome = await store.deleteVersion(task.clientId, task.id, version.number);
        if (outcome === 'active')
          throw new DomainError('version_active', `version ${version.number} is active; activate another version before deleting it`, 'version');
        if (outcome === 'missing') throw versionNotFound(task.id, version.number);
        predictions.invalidate(task.clientId, task.id, { id: version.id, number: version.number });
        res.status(204).end();
      },
    }),
  ];
}
