/** Head versions: immutable results of training; one is active per task; rollback by activating another. */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { specToJson } from '../../encoder/feature-spec.js';
import type { Store, TaskRecord, VersionRecord } from '../../store/types.js';
import type { PredictionService } from '../../serving/predictions.js';
import { DomainError } from '../../errors.js';
import type { Operation } from '../openapi.js';
import { featureSpecOut, iso } from '../schemas/common.js';
import { taskJson, taskOr404, taskOut } from './tasks.js';

export const versionOut = z.object({
  object: z.literal('head_version'),
  task: z.string(),
  version: z.number().int(),
  active: z.boolean(),
  head_type: z.string(),
  params: z.unknown(),
  feature_spec: featureSpecOut,
  labels: z.array(z.string()),
  metrics: z.unknown().describe('accuracy, macro_f1, per_label, confusion_matrix, and how they were measured.'),
  report: z.unknown().describe('Layer sweep and search tables, feature reuse, phase timings.'),
  example_count: z.number().int(),
  training_ms: z.number(),
  artifact_bytes: z.number().int(),
  job: z.string().nullable(),
  created_at: z.string(),
});

export function versionJson(v: VersionRecord, task: TaskRecord, detail = true): z.infer<typeof versionOut> {
  return {
    object: 'head_version',
    task: v.taskId,
    version: v.number,
    active: task.activeVersion === v.number,
    head_type: v.headType,
    params: v.params,
    feature_spec: specToJson(v.spec),
    labels: v.labels,
    metrics: detail ? v.metrics : summary(v.metrics),
    report: detail ? v.report : undefined,
    example_count: v.exampleCount,
    training_ms: v.trainingMs,
    artifact_bytes: v.artifactBytes,
    job: v.jobId,
    created_at: iso(v.createdAt)!,
  };
}

function summary(metrics: unknown) {
  const m = metrics as { accuracy?: number; macro_f1?: number; method?: string };
  return { accuracy: m.accuracy, macro_f1: m.macro_f1, method: m.method };
}

export const versionsOperations: Operation[] = [
  {
    method: 'get',
    path: '/v1/tasks/:task/versions',
    tag: 'versions',
    summary: 'List versions (metrics summarised).',
    responses: { 200: { description: 'Versions, oldest first.' } },
  },
  {
    method: 'get',
    path: '/v1/tasks/:task/versions/:version',
    tag: 'versions',
    summary: 'A version with its full evaluation and training report.',
    responses: { 200: { description: 'The version.', schema: versionOut } },
  },
  {
    method: 'get',
    path: '/v1/tasks/:task/versions/:version/artifact',
    tag: 'versions',
    summary: 'The portable artifact (libsvm model text or ml-random-forest JSON).',
    responses: { 200: { description: 'Artifact JSON.' } },
  },
  {
    method: 'post',
    path: '/v1/tasks/:task/versions/:version/activate',
    tag: 'versions',
    summary: 'Make this version active (rollback or roll forward).',
    responses: { 200: { description: 'The task.', schema: taskOut } },
  },
  {
    method: 'delete',
    path: '/v1/tasks/:task/versions/:version',
    tag: 'versions',
    summary: 'Delete an inactive version.',
    responses: { 204: { description: 'Deleted.' }, 409: { description: 'The version is active.' } },
  },
];

function versionNumber(req: Request): number {
  const n = Number(req.params.version);
  if (!Number.isSafeInteger(n) || n < 1) throw new DomainError('version_not_found', `version "${req.params.version}" does not exist`, 'version');
  return n;
}

export function versionsRouter(store: Store, predictions: PredictionService): Router {
  const router = Router();
  const load = async (req: Request) => {
    const task = await taskOr404(store, req);
    const number = versionNumber(req);
    const version = await store.getVersion(task.tenantId, task.id, number);
    if (!version) throw new DomainError('version_not_found', `task ${task.id} has no version ${number}`, 'version');
    return { task, version };
  };
  router.get('/v1/tasks/:task/versions', async (req, res) => {
    const task = await taskOr404(store, req);
    const versions = await store.listVersions(task.tenantId, task.id);
    res.json({ object: 'list', data: versions.map((v) => versionJson(v, task, false)), has_more: false, next_after: null });
  });
  router.get('/v1/tasks/:task/versions/:version', async (req, res) => {
    const { task, version } = await load(req);
    res.json(versionJson(version, task));
  });
  router.get('/v1/tasks/:task/versions/:version/artifact', async (req, res) => {
    const { task, version } = await load(req);
    const bytes = await store.getArtifactBytes(task.tenantId, task.id, version.number);
    if (!bytes) throw new DomainError('version_not_found', `task ${task.id} has no version ${version.number}`, 'version');
    // Stored gzip-compressed: pass it through when the client accepts gzip, as almost all do.
    if (req.acceptsEncodings('gzip')) res.set('Content-Encoding', 'gzip').type('application/json').send(Buffer.from(bytes));
    else res.json(await store.getArtifact(task.tenantId, task.id, version.number));
  });
  router.post('/v1/tasks/:task/versions/:version/activate', async (req, res) => {
    const { task, version } = await load(req);
    const updated = await store.activateVersion(task.tenantId, task.id, version.number);
    if (!updated) throw new DomainError('version_not_found', `task ${task.id} has no version ${version.number}`, 'version');
    predictions.invalidate(task.tenantId, task.id);
    res.json(taskJson(updated));
  });
  router.delete('/v1/tasks/:task/versions/:version', async (req, res) => {
    const { task, version } = await load(req);
    const outcome = await store.deleteVersion(task.tenantId, task.id, version.number);
    if (outcome === 'active')
      throw new DomainError('version_active', `version ${version.number} is active; activate another version before deleting it`, 'version');
    if (outcome === 'missing') throw new DomainError('version_not_found', `task ${task.id} has no version ${version.number}`, 'version');
    predictions.invalidate(task.tenantId, task.id, version.id);
    res.status(204).end();
  });
  return router;
}
