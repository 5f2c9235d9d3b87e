/**
 * A claimed training job's work, from the runner's side: its inputs
 * (./job-inputs.ts) go to a training process of its own (./job-worker.ts;
 * when it ends, so does every byte it allocated), and its result comes back
 * as the versions the job's end records.
 */
import type { FeatureSpec } from '../encoder/feature-spec.js';
import { DomainError, isDomainError } from '../errors.js';
import type { ExampleRecord, JobOutcome, JobRecord, NewVersion } from '../store/types.js';
import { WorkerChannel } from '../workers/channel.js';
import { errorFields, type Logger } from '../log.js';
import type { FineTuneProgress } from '../store/types.js';
import type { EpochRecord } from './fine-tune/checkpoint.js';
import type { StepProgress } from './fine-tune/fine-tune.js';
import { type InputSources, multitaskInputs, type PhaseReport, type SingleTaskInputs, singleTaskInputs } from './job-inputs.js';
import type { FineTuneJob, JobThreadApi, JobThreadEvent, JobThreadResult } from './job-protocol.js';
import { fineTuneRecipe } from './plan.js';
import type { TrainingRequest } from './request.js';
import { ACTIVATION_RULE, type ActivationReport, decideActivation, type IncumbentInput } from './activation.js';
import { zeroShotLabels } from '../heads/prototype/label-text.js';

export interface JobEnvironment extends InputSources {
  /** Threads one job may use. */
  threads: number;
  /** Heap limit of a job's training process, MB (0 = Node's default). */
  heapMb: number;
  /** Identifies this replica's claims: a checkpoint is written only while the job is ours. */
  owner: string;
  log: Logger;
}

/** Runs the job to its outcome; throws what stopped it (the signal's reason when aborted). */
export async function executeJob(env: JobEnvironment, job: JobRecord, signal: AbortSignal, phase: PhaseReport): Promise<JobOutcome> {
  const request = job.request as TrainingRequest;
  return request.tasks ? executeMultitask(env, job, request, request.tasks, signal, phase) : executeSingle(env, job, request, signal, phase);
}

async function executeSingle(env: JobEnvironment, job: JobRecord, request: TrainingRequest, signal: AbortSignal, phase: PhaseReport): Promise<JobOutcome> {
  const inputs = await singleTaskInputs(env, job, request, signal, phase);
  const { labels, examples, y, n, specs, described } = inputs;
  const fineTune = await fineTuneJob(env, job, request, inputs);
  phase('training', 25);
  const steps = fineTune && new FineTuneSteps(fineTune.recipe.epochs, fineTune.resumesAfter);
  let last = { name: 'training', percent: 25 };
  const { resumesAfter: _, ...fineTuneArgs } = fineTune ?? {};
  const result = await train(
    env,
    'run',
    { ...inputs.args, threads: env.threads, ...(fineTune ? { fineTune: fineTuneArgs as FineTuneJob } : {}) },
    signal,
    (e) => {
      if (e.type === 'progress') {
        last = { name: e.phase, percent: 25 + 70 * e.fraction };
        phase(last.name, last.percent, steps ? { fineTune: steps.progress } : undefined);
      } else if (e.type === 'step') {
        steps?.step(e);
        phase(last.name, last.percent, steps ? { fineTune: steps.progress } : undefined);
      } else {
        steps?.epoch(e.record);
        // Kept for the replica that claims the job should this one die; the run goes on meanwhile.
        env.store
          .saveJobCheckpoint(job.id, env.owner, e.epoch, e.bytes)
          .catch((err) => env.log('warn', 'could not keep the fine-tuning checkpoint', { job: job.id, epoch: e.epoch, ...errorFields(err) }));
      }
    },
  );
  const version = versionOf(
    result,
    result.spec ?? inputs.args.candidates[result.chosen]!.spec,
    labels,
    examples,
    y,
    {
      specs: specs.length,
      examples: n,
      encoded_texts: inputs.encoded,
    },
    inputs.targets,
  );
  const decided = await activation(env, job, request, inputs.args.incumbent, labels, y, result);
  version.report = {
    ...(version.report as object),
    label_descriptions: { rows: described.length, labels: described.map((d) => labels[d.label]) },
    activation: decided.report,
  };
  return { state: 'succeeded', activate: decided.activate, version };
}

/** What a fine-tuning job's process needs beside its features, or undefined when the job does not fine-tune. */
async function fineTuneJob(
  env: JobEnvironment,
  job: JobRecord,
  request: TrainingRequest,
  inputs: SingleTaskInputs,
): Promise<(FineTuneJob & { resumesAfter?: number }) | undefined> {
  const encoder = env.models.get(inputs.task.spec.model);
  if (!encoder) return undefined;
  const recipe = fineTuneRecipe(request, encoder.manifest, env.threads);
  if (!recipe) return undefined;
  const checkpoint = await env.store.getJobCheckpoint(job.id);
  return {
    modelDir: encoder.modelDir,
    texts: [...inputs.examples.map((e) => e.text), ...inputs.described.map((d) => d.text)],
    recipe,
    ...(checkpoint ? { checkpoint: checkpoint.bytes, resumesAfter: checkpoint.epoch } : {}),
  };
}

/** A fine-tuning job's progress as the job record shows it: the last step, and every epoch done (a resumed job's earlier ones too). */
class FineTuneSteps {
  readonly progress: FineTuneProgress;

  constructor(epochs: number, resumedAfter: number | undefined) {
    this.progress = { step: 0, steps: 0, epoch: resumedAfter ?? 0, epochs, loss: 0, runningLoss: 0, epochsDone: [] };
  }

  step(p: StepProgress): void {
    Object.assign(this.progress, { step: p.step, steps: p.steps, epoch: p.epoch, loss: p.loss, runningLoss: p.runningLoss });
  }

  epoch(record: EpochRecord): void {
    this.progress.epochsDone = [...this.progress.epochsDone.filter((e) => e.epoch !== record.epoch), record];
  }
}

/**
 * Whether the new version becomes active (./activation.ts), decided when the job ends. The active version the job
 * scored must still be the active one: a version activated meanwhile (a rollback, another job) is left alone.
 */
async function activation(
  env: JobEnvironment,
  job: JobRecord,
  request: TrainingRequest,
  scored: IncumbentInput | undefined,
  labels: string[],
  y: Int32Array,
  result: JobThreadResult,
): Promise<{ activate: boolean; report: ActivationReport }> {
  const evaluated = (result.metrics as { method?: string }).method !== 'none';
  const newPredicted = evaluated ? result.evaluation.predicted : undefined;
  if (request.activate !== 'if_better' || !scored || !result.incumbent)
    return decideActivation(request.activate, labels, y, newPredicted, (await hasActive(env, job, request)) ? 'unscored' : undefined);
  const task = await env.store.getTask(job.clientId, job.taskId);
  if ((task?.activeVersion ?? 0) !== scored.number)
    return {
      activate: false,
      report: { rule: ACTIVATION_RULE, decision: 'kept', reason: `version ${task?.activeVersion ?? 0} became active while the job ran` },
    };
  const predicted = Array.from(result.incumbent, (c) => (c >= 0 ? scored.labels[c]! : null));
  return decideActivation(request.activate, labels, y, newPredicted, { number: scored.number, predicted });
}

/** Whether the task has an active version (version 0 included) that the job could not score honestly. */
async function hasActive(env: JobEnvironment, job: JobRecord, request: TrainingRequest): Promise<boolean> {
  if (request.activate !== 'if_better') return false;
  const task = await env.store.getTask(job.clientId, job.taskId);
  return Boolean(task && (task.activeVersion || zeroShotLabels(task)));
}

/** Several tasks trained together (./multitask.ts): one version each, written with the job's end. */
async function executeMultitask(
  env: JobEnvironment,
  job: JobRecord,
  request: TrainingRequest,
  taskIds: string[],
  signal: AbortSignal,
  phase: PhaseReport,
): Promise<JobOutcome> {
  const { tasks, args } = await multitaskInputs(env, job, request, taskIds, signal, phase);
  phase('training', 25);
  const result = await train(env, 'runMultitask', { ...args, threads: env.threads }, signal, (e) => {
    if (e.type === 'progress') phase(e.phase, 25 + 70 * e.fraction);
  });
  const versions = result.tasks.map((r, i) => {
    const t = tasks[i]!;
    const spec = args.tasks[i]!.spec;
    return { taskId: t.task.id, version: versionOf(r, spec, t.labels, t.examples, t.y, { specs: 1, examples: t.n, encoded_texts: t.encoded }) };
  });
  // Tasks trained together are activated together, or not at all: each one's evaluation is the joint network's.
  return { state: 'succeeded', activate: request.activate !== false, version: versions[0]!.version, others: versions.slice(1) };
}

/**
 * Runs the job in a training process of its own; its crash fails this job
 * only. Aborting drops the call, which sets the job's cancel flag in the
 * process: it stops after the pool tasks running then (stopping a thread
 * inside a native onnxruntime call would abort the process), and exits
 * before the job's end is recorded, so the next job starts on free memory.
 */
async function train<M extends 'run' | 'runMultitask'>(
  env: JobEnvironment,
  method: M,
  args: Parameters<JobThreadApi[M]>[0],
  signal: AbortSignal,
  onEvent: (event: JobThreadEvent) => void,
): Promise<Awaited<ReturnType<JobThreadApi[M]>>> {
  const job = new WorkerChannel<JobThreadApi, JobThreadEvent>({
    url: new URL('./job-worker.js', import.meta.url),
    name: 'the training process',
    isolation: 'process',
    ...(env.heapMb > 0 ? { resourceLimits: { maxOldGenerationSizeMb: env.heapMb } } : {}),
  });
  job.on('event', onEvent);
  try {
    return (await job.call(method, args as never, { signal })) as Awaited<ReturnType<JobThreadApi[M]>>;
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    const cause = (err as Error).cause as { code?: string } | undefined;
    if (isDomainError(err, 'worker_crashed') && cause?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      throw new DomainError('worker_crashed', `the training process ran out of memory (limit ${env.heapMb} MB)`);
    }
    throw err;
  } finally {
    await job.stop();
  }
}

/** The version a training result makes, with its row-by-row evaluation. */
function versionOf(
  result: JobThreadResult,
  spec: FeatureSpec,
  labels: string[],
  examples: ExampleRecord[],
  y: Int32Array,
  /** What the feature store saved: specs computed, examples, texts the encoder ran on. */
  features: { specs: number; examples: number; encoded_texts: number },
  /** Multi-label: the examples' sets, multi-hot (n × labels). */
  targets?: Uint8Array,
): NewVersion {
  const { predicted, map, sets } = result.evaluation;
  const k = labels.length;
  const setOf = (m: Uint8Array, row: number) => {
    const out: number[] = [];
    for (let c = 0; c < k; c++) if (m[row * k + c] === 1) out.push(c);
    return out;
  };
  // Four decimals: far finer than a plot can show, and a third of the JSON of full floats.
  const coord = (axis: 0 | 1) => Array.from({ length: map.rows.length }, (_, i) => Math.round(map.coords[2 * i + axis]! * 1e4) / 1e4);
  return {
    ...(result.tunedStack ? { tunedStack: result.tunedStack } : {}),
    headType: result.headType,
    params: result.params,
    spec,
    labels,
    metrics: result.metrics,
    report: { ...result.report, features, timings: result.timings },
    exampleCount: examples.length,
    trainingMs: result.timings.reduce((a, t) => a + t.ms, 0),
    artifact: result.artifact,
    evaluation: {
      exampleIds: examples.map((e) => e.id),
      truth: Array.from(y),
      predicted: Array.from(predicted),
      ...(targets
        ? {
            truthSets: examples.map((_, i) => setOf(targets, i)),
            predictedSets: examples.map((_, i) => (sets?.held[i] ? setOf(sets.decided, i) : null)),
          }
        : {}),
      map: { method: map.method, explainedVarianceRatio: map.explainedVarianceRatio, rows: Array.from(map.rows), x: coord(0), y: coord(1) },
    },
  };
}
