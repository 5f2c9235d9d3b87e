/** Head versions: immutable results of training; one is active per task; rollback by activating another. */
import type { z } from 'zod';
import { specToJson } from '../../encoder/feature-spec.js';
import { DomainError } from '../../errors.js';
import { type AnyHead, artifactFormats } from '../../heads/registry.js';
import type { PredictionService } from '../../serving/predictions.js';
import type { Store, TaskRecord, VersionRecord } from '../../store/types.js';
import { taskOf, versionNotFound, versionOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { iso, listEnvelope } from '../schemas/common.js';
import { taskParam, versionParam } from '../schemas/params.js';
import { taskOut } from '../schemas/task.js';
import { type metricsOut, type reportOut, versionOut, versionSummaryOut } from '../schemas/version.js';
import { taskJson } from '../resource-json.js';

function versionJson(v: VersionRecord, task: TaskRecord) {
  return {
    object: 'head_version' as const,
    task: v.taskId,
    version: v.number,
    active: task.activeVersion === v.number,
    head_type: v.headType,
    params: v.params as Record<string, unknown>,
    feature_spec: specToJson(v.spec),
    labels: v.labels,
    example_count: v.exampleCount,
    training_ms: v.trainingMs,
    artifact_bytes: v.artifactBytes,
    tuned: v.tuned && {
      layers: v.tuned.last - v.tuned.first + 1,
      first_layer: v.tuned.first,
      last_layer: v.tuned.last,
      stored_bytes: v.tuned.storedBytes,
      loaded_bytes: v.tuned.loadedBytes,
    },
    job: v.jobId,
    created_at: iso(v.createdAt)!,
  };
}

/** The metrics and report are stored as the training job wrote them (src/training/pipeline.ts); the API tests hold them to these schemas. */
const versionDetail = (v: VersionRecord, task: TaskRecord): z.infer<typeof versionOut> => ({
  ...versionJson(v, task),
  metrics: v.metrics as z.infer<typeof metricsOut>,
  report: v.report as z.infer<typeof reportOut>,
});

function versionSummary(v: VersionRecord, task: TaskRecord): z.infer<typeof versionSummaryOut> {
  const m = v.metrics as {
    kind?: string;
    accuracy: number;
    macro_f1: number;
    micro_f1: number;
    subset_accuracy: number;
    method: 'cv' | 'holdout' | 'none';
    reason: string;
  };
  const metrics =
    m.method === 'none'
      ? { method: 'none' as const, reason: m.reason }
      : m.kind === 'multi_label'
        ? { kind: 'multi_label' as const, micro_f1: m.micro_f1, macro_f1: m.macro_f1, subset_accuracy: m.subset_accuracy, method: m.method }
        : { accuracy: m.accuracy, macro_f1: m.macro_f1, method: m.method };
  return { ...versionJson(v, task), metrics };
}

/** What GET …/artifact sends, format by format, from the head registry. */
const artifactDescription = (heads: readonly AnyHead[]) =>
  [
    'JSON whose `format` names its layout:',
    ...artifactFormats(heads).map((f) => `"${f.format}" (${f.of}): ${f.fields}`),
    'Sent gzip-compressed (Content-Encoding: gzip) when the client accepts gzip, as it is stored.',
  ].join(' ');

/** `heads`: the head registry, whose artifact formats GET …/artifact documents. */
export function versionsRoutes(store: Store, predictions: PredictionService, heads: readonly AnyHead[]): Route[] {
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
      summary: "The version's trained head as portable JSON: what the service predicts with.",
      description: artifactDescription(heads),
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
