/** Training jobs: start (202 + Location), watch (also as an event stream), list, cancel. */
import { setTimeout as delay } from 'node:timers/promises';
import type { ModelRegistry } from '../../encoder/registry.js';
import { DomainError } from '../../errors.js';
import { FINISHED_STATES, type Store } from '../../store/types.js';
import { countsByLabel } from '../../store/label-set.js';
import type { AnyHead } from '../../heads/registry.js';
import { normalizeRequest, trainingRequestSchemaOf } from '../../training/request.js';
import { candidateSpecs, checkObjective, checkTrainable, fineTuneRecipe, medianOf, smallestDimension, withRecipeDefaults } from '../../training/plan.js';
import type { EventStreams } from '../event-stream.js';
import { taskOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { listEnvelope, listJson, pageQuery } from '../schemas/common.js';
import { jobOut } from '../schemas/job.js';
import { jobJson } from '../resource-json.js';
import { jobParam, taskParam } from '../schemas/params.js';

/**
 * How often a job's event stream reads the job. The store is the one place
 * every replica's progress reaches (the runner writes it about once a second),
 * so a stream on any replica follows a job running on any other.
 */
const EVENTS_POLL_MS = 500;

export interface JobsDeps {
  store: Store;
  events: EventStreams;
  models: ModelRegistry;
  maxAttempts: number;
  /** Tells the local runner a job is waiting (it would otherwise find it at its next poll). */
  wake: () => void;
  /** The head registry: the head types a request may name. */
  heads: readonly AnyHead[];
}

export function jobsRoutes({ store, models, maxAttempts, wake, events, heads }: JobsDeps): Route[] {
  const jobOf = async (client: string, taskId: string, jobId: string) => {
    const task = await taskOf(store, client, taskId);
    const job = await store.getJob(task.clientId, task.id, jobId);
    if (!job) throw new DomainError('job_not_found', `job "${jobId}" does not exist in task ${task.id}`, 'job');
    return { task, job };
  };
  return [
    route({
      method: 'post',
      path: '/v1/tasks/:task/jobs',
      tag: 'training',
      scope: 'train',
      summary: 'Start training (runs in the background; poll the job).',
      params: { task: taskParam },
      // No body at all trains with every default.
      body: trainingRequestSchemaOf(heads).prefault({}),
      responses: {
        202: { description: 'Queued.', schema: jobOut, headers: { Location: 'The job.' } },
        409: {
          description:
            "The task cannot be trained as asked: no examples, a single label, a label with fewer examples than the evaluation needs, the task's model is not loaded, or (fine_tune) its import cannot be fine-tuned (model_not_trainable: the message says how to re-import it).",
        },
      },
      handler: async ({ params, body, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const counts = countsByLabel(task.kind, await store.labelCounts(task.clientId, task.id));
        const request = withRecipeDefaults(normalizeRequest(body, task.kind, heads, medianOf(counts)), task, counts);
        const manifest = models.get(task.spec.model)?.manifest;
        if (!manifest) throw new DomainError('model_unavailable', `the task's model ${task.spec.model} is not loaded`);
        const specs = candidateSpecs(task, request, manifest.layers);
        checkTrainable(counts, request, smallestDimension(specs, manifest.hiddenSize), task.kind);
        checkObjective(fineTuneRecipe(request, manifest), task.kind, counts);
        const job = await store.createJob({ clientId: task.clientId, taskId: task.id, request, maxAttempts });
        wake();
        res.status(202).location(`/v1/tasks/${task.id}/jobs/${job.id}`).json(jobJson(job));
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/jobs',
      tag: 'training',
      scope: 'read',
      summary: 'List jobs, oldest first.',
      params: { task: taskParam },
      query: pageQuery,
      responses: { 200: { description: 'A page.', schema: listEnvelope(jobOut) } },
      handler: async ({ params, query, client, res }) => {
        const task = await taskOf(store, client, params.task);
        const page = await store.listJobs(task.clientId, task.id, query.limit, query.after);
        res.json(listJson(page.items.map(jobJson), page.next));
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/jobs/:job',
      tag: 'training',
      scope: 'read',
      summary: 'A job: state, progress, timings, error, version.',
      params: { task: taskParam, job: jobParam },
      responses: { 200: { description: 'The job.', schema: jobOut } },
      handler: async ({ params, client, res }) => {
        const { job } = await jobOf(client, params.task, params.job);
        res.json(jobJson(job));
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/jobs/:job/events',
      tag: 'training',
      scope: 'read',
      summary: "A job's progress as Server-Sent Events, until it ends.",
      description: [
        '`event: job` carries the same JSON as GET of the job: sent at once, then whenever its state or progress changes (progress is written about once a second by whichever replica runs the job).',
        'After the job succeeds, fails or is cancelled, its last `job` event is followed by `event: end` (data `{}`) and the stream closes.',
        'If the job goes with its task meanwhile, `event: error` carries `{"error": {...}}` and the stream closes.',
        'Comment lines keep the connection alive every 15 s; a replica that shuts down closes its streams (reconnect: another replica serves the same job).',
        'A replica serves a bounded number of streams; past it, 429.',
      ].join(' '),
      params: { task: taskParam, job: jobParam },
      responses: { 200: { description: 'An event stream.', mediaType: 'text/event-stream' } },
      handler: async ({ params, client, res }) => {
        const found = await jobOf(client, params.task, params.job);
        const task = found.task;
        let job = found.job;
        const stream = events.start(res);
        let sent = '';
        while (!stream.signal.aborted) {
          const json = jobJson(job);
          const text = JSON.stringify(json);
          if (text !== sent) {
            stream.send('job', json);
            sent = text;
          }
          if (FINISHED_STATES.includes(job.state)) {
            stream.send('end', {});
            break;
          }
          await delay(EVENTS_POLL_MS, undefined, { signal: stream.signal }).catch(() => undefined);
          if (stream.signal.aborted) break;
          // A database hiccup is not the end of the job: the stream waits for the store to answer again.
          const now = await store.getJob(task.clientId, task.id, job.id).catch(() => job);
          if (!now) {
            stream.send('error', { error: { code: 'job_not_found', message: `job ${job.id} went with its task` } });
            break;
          }
          job = now;
        }
        stream.end();
      },
    }),
    route({
      method: 'delete',
      path: '/v1/tasks/:task/jobs/:job',
      tag: 'training',
      scope: 'train',
      summary: 'Cancel a queued or running job.',
      params: { task: taskParam, job: jobParam },
      responses: {
        200: { description: 'Cancelled (the job was queued).', schema: jobOut },
        202: {
          description: 'Cancellation requested (the job is running): the replica running it stops it at once, and it records no version.',
          schema: jobOut,
        },
        409: { description: 'The job already finished.' },
      },
      handler: async ({ params, client, res }) => {
        const { task, job: before } = await jobOf(client, params.task, params.job);
        if (FINISHED_STATES.includes(before.state))
          throw new DomainError('job_finished', `job ${before.id} already ${before.state}; only queued or running jobs can be cancelled`);
        const job = await store.cancelJob(task.clientId, task.id, before.id);
        // The job may have ended, or gone with its task, since it was read.
        if (!job) throw new DomainError('job_not_found', `job "${before.id}" does not exist in task ${task.id}`, 'job');
        if (job.state === 'succeeded' || job.state === 'failed')
          throw new DomainError('job_finished', `job ${job.id} already ${job.state}; only queued or running jobs can be cancelled`);
        res.status(job.state === 'cancelled' ? 200 : 202).json(jobJson(job));
      },
    }),
  ];
}
