/** Training jobs: start (202 + Location), watch, list, cancel. */
import { Router } from 'express';
import { z } from 'zod';
import { resolveSpec } from '../../encoder/feature-spec.js';
import type { ModelRegistry } from '../../encoder/registry.js';
import { FINISHED_STATES, type JobRecord, type Store } from '../../store/types.js';
import { checkTrainable } from '../../training/runner.js';
import { normalizeRequest, trainingRequestSchema, type TrainingRequest } from '../../training/request.js';
import { DomainError, isDomainError } from '../../errors.js';
import type { Operation } from '../openapi.js';
import { iso, listEnvelope, pageQuery } from '../schemas/common.js';
import { jsonBody, parse } from '../validate.js';
import { taskOr404 } from './tasks.js';

export const jobOut = z.object({
  id: z.string(),
  object: z.literal('training_job'),
  task: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  progress: z.object({ phase: z.string(), percent: z.number() }),
  timings: z.array(z.object({ phase: z.string(), ms: z.number() })),
  request: z.unknown(),
  attempts: z.number().int(),
  runner: z.string().nullable().describe('The replica holding the job while it runs.'),
  cancel_requested: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  version: z.number().int().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});

/** The stored request in the API's snake_case form. */
function requestJson(r: TrainingRequest) {
  return {
    head: r.head,
    evaluation: r.evaluation,
    layer_sweep: r.layerSweep ? { ...(r.layerSweep.layers ? { layers: r.layerSweep.layers } : {}), top_concat: r.layerSweep.topConcat } : false,
    activate: r.activate,
    seed: r.seed,
  };
}

export function jobJson(j: JobRecord): z.infer<typeof jobOut> {
  return {
    id: j.id,
    object: 'training_job',
    task: j.taskId,
    state: j.state,
    progress: { phase: j.progress.phase, percent: j.progress.percent },
    timings: j.progress.timings,
    request: requestJson(j.request as TrainingRequest),
    attempts: j.attempts,
    runner: j.state === 'running' ? j.leaseOwner : null,
    cancel_requested: j.cancelRequested,
    error: j.error,
    version: j.versionNumber,
    created_at: iso(j.createdAt)!,
    started_at: iso(j.startedAt),
    finished_at: iso(j.finishedAt),
  };
}

export const jobsOperations: Operation[] = [
  {
    method: 'post',
    path: '/v1/tasks/:task/jobs',
    tag: 'training',
    summary: 'Start training (runs in the background; poll the job).',
    body: trainingRequestSchema,
    responses: {
      202: { description: 'Queued; Location names the job.', schema: jobOut },
      409: { description: 'The examples cannot be trained on as asked (empty task, one label, a label with too few examples).' },
    },
  },
  {
    method: 'get',
    path: '/v1/tasks/:task/jobs',
    tag: 'training',
    summary: 'List jobs, oldest first.',
    query: pageQuery,
    responses: { 200: { description: 'A page.', schema: listEnvelope(jobOut) } },
  },
  {
    method: 'get',
    path: '/v1/tasks/:task/jobs/:job',
    tag: 'training',
    summary: 'A job: state, progress, timings, error, version.',
    responses: { 200: { description: 'The job.', schema: jobOut } },
  },
  {
    method: 'delete',
    path: '/v1/tasks/:task/jobs/:job',
    tag: 'training',
    summary: 'Cancel a queued or running job.',
    responses: {
      200: { description: 'Cancelled (queued job).', schema: jobOut },
      202: { description: 'Cancellation requested (running job).', schema: jobOut },
      409: { description: 'The job already finished.' },
    },
  },
];

export interface JobsDeps {
  store: Store;
  models: ModelRegistry;
  maxAttempts: number;
  /** Tells the local runner a job is waiting (it would otherwise find it at its next poll). */
  wake: () => void;
}

export function jobsRouter({ store, models, maxAttempts, wake }: JobsDeps): Router {
  const router = Router();
  router.post('/v1/tasks/:task/jobs', async (req, res) => {
    const task = await taskOr404(store, req);
    const request = normalizeRequest(parse(trainingRequestSchema, req.body === undefined ? {} : jsonBody(req.body)));
    const layers = models.get(task.spec.model)?.manifest.layers;
    if (layers === undefined) throw new DomainError('model_unavailable', `the task's model ${task.spec.model} is not loaded`);
    for (const l of request.layerSweep?.layers ?? []) {
      try {
        resolveSpec({ model: task.spec.model, layers: l }, layers);
      } catch (err) {
        throw isDomainError(err, 'invalid_feature_spec') ? err.at('layer_sweep.layers') : err;
      }
    }
    checkTrainable(await store.labelCounts(task.tenantId, task.id), request);
    const job = await store.createJob({ tenantId: task.tenantId, taskId: task.id, request, maxAttempts });
    wake();
    res.status(202).location(`/v1/tasks/${task.id}/jobs/${job.id}`).json(jobJson(job));
  });
  router.get('/v1/tasks/:task/jobs', async (req, res) => {
    const task = await taskOr404(store, req);
    const q = parse(pageQuery, req.query, 'query');
    const page = await store.listJobs(task.tenantId, task.id, q.limit, q.after);
    res.json({ object: 'list', data: page.items.map(jobJson), has_more: page.next !== null, next_after: page.next });
  });
  router.get('/v1/tasks/:task/jobs/:job', async (req, res) => {
    const task = await taskOr404(store, req);
    const job = await store.getJob(task.tenantId, task.id, String(req.params.job));
    if (!job) throw new DomainError('job_not_found', `job "${req.params.job}" does not exist in task ${task.id}`, 'job');
    res.json(jobJson(job));
  });
  router.delete('/v1/tasks/:task/jobs/:job', async (req, res) => {
    const task = await taskOr404(store, req);
    const before = await store.getJob(task.tenantId, task.id, String(req.params.job));
    if (!before) throw new DomainError('job_not_found', `job "${req.params.job}" does not exist in task ${task.id}`, 'job');
    if (FINISHED_STATES.includes(before.state))
      throw new DomainError('job_finished', `job ${before.id} already ${before.state}; only queued or running jobs can be cancelled`);
    const job = (await store.cancelJob(task.tenantId, task.id, before.id))!;
    res.status(job.state === 'cancelled' ? 200 : 202).json(jobJson(job));
  });
  return router;
}
