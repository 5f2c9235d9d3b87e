/** A training job as the API returns it: from the job routes and from starting a multi-task job. */
import { z } from 'zod';
import { fineTuneEpochOut } from './common.js';

/** The request the job runs, its defaults filled in. */
const jobRequestOut = z.object({
  tasks: z.array(z.string()).optional().describe('A multi-task job: its tasks, this one first.'),
  head: z.union([
    z.object({ type: z.literal('auto'), candidates: z.array(z.string()) }),
    z.object({ type: z.string(), params: z.record(z.string(), z.unknown()), search: z.boolean() }),
  ]),
  evaluation: z.union([
    z.object({ method: z.literal('cv'), folds: z.number().int() }),
    z.object({ method: z.literal('holdout'), fraction: z.number() }),
    z.object({ method: z.literal('none') }),
  ]),
  layer_sweep: z.union([z.literal(false), z.object({ layers: z.array(z.number().int()).optional(), top_concat: z.number().int() })]),
  search_strategy: z.enum(['halving', 'grid']),
  learning_curve: z.union([z.literal(false), z.object({ fractions: z.array(z.number()) })]),
  label_descriptions: z.union([z.literal('auto'), z.boolean()]),
  activate: z.union([z.boolean(), z.literal('if_better')]),
  seed: z.number().int(),
});

const fineTuneProgressOut = z.object({
  step: z.number().int().describe('Steps done (a resumed job counts the steps before it).'),
  steps: z.number().int(),
  epoch: z.number().int().describe('The epoch running (1-based).'),
  epochs: z.number().int(),
  loss: z.number().describe("The last step's training loss."),
  running_loss: z.number().describe("Mean training loss of the epoch's steps so far."),
  epochs_done: z.array(fineTuneEpochOut).describe('Each completed epoch of this attempt (a resumed job: from the epoch it resumed after).'),
});

export const jobOut = z.object({
  id: z.string(),
  object: z.literal('training_job'),
  task: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  progress: z.object({
    phase: z.string(),
    percent: z.number(),
    fine_tune: fineTuneProgressOut.optional().describe('A job that fine-tunes: its last step, and each epoch done.'),
  }),
  timings: z.array(z.object({ phase: z.string(), ms: z.number() })),
  request: jobRequestOut.describe('The training request with its defaults filled in.'),
  attempts: z.number().int(),
  runner: z.string().nullable().describe('The replica holding the job while it runs.'),
  cancel_requested: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  version: z.number().int().nullable().describe("The version the job produced (a multi-task job: its own task's), once it succeeded."),
  trigger: z
    .enum(['request', 'retrain_after'])
    .describe("What queued it: a client's request (POST …/jobs, /v1/multitask-jobs), or the task's retrain_after (an upload of examples reached it)."),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
