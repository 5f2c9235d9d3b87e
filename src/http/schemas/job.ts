/** A training job as the API returns it: from the job routes and from starting a multi-task job. */
import { z } from 'zod';
import type { JobRecord } from '../../store/types.js';
import type { TrainingRequest } from '../../training/request.js';
import { iso } from './common.js';

export const jobOut = z.object({
  id: z.string(),
  object: z.literal('training_job'),
  task: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  progress: z.object({ phase: z.string(), percent: z.number() }),
  timings: z.array(z.object({ phase: z.string(), ms: z.number() })),
  request: z.unknown().describe('The training request with its defaults filled in.'),
  attempts: z.number().int(),
  runner: z.string().nullable().describe('The replica holding the job while it runs.'),
  cancel_requested: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  version: z.number().int().nullable().describe("The version the job produced (a multi-task job: its own task's), once it succeeded."),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});

/** The stored request in the API's snake_case form. */
function requestJson(r: TrainingRequest) {
  return {
    ...(r.tasks ? { tasks: r.tasks } : {}),
    head: r.head,
    evaluation: r.evaluation,
    layer_sweep: r.layerSweep ? { ...(r.layerSweep.layers ? { layers: r.layerSweep.layers } : {}), top_concat: r.layerSweep.topConcat } : false,
    search_strategy: r.searchStrategy ?? 'grid',
    learning_curve: r.learningCurve ? { fractions: r.learningCurve } : false,
    label_descriptions: r.labelDescriptions ?? 'auto',
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
