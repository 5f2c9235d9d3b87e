/**
 * Runs training jobs: claims them from the store with a lease, computes their
 * features (once; reused afterwards), hands the heavy work to a training
 * process of its own (when it ends, so does every byte it allocated), and
 * writes the version and the job's end in one transaction.
 *
 * A replica that dies stops renewing its lease; another replica claims the
 * job again. A replica never writes a job it no longer holds.
 *
 * A cancellation or the deletion of the task reaches the replica running the
 * job through the store's change notices, and stops it at once (its training
 * process stops after the pool tasks running then); the lease heartbeat finds
 * the cancellation too, should a notice be lost.
 */
import { type FeatureSpec, specDimensions, specKey } from '../encoder/feature-spec.js';
import type { ModelRegistry } from '../encoder/registry.js';
import type { FeatureService } from '../features/feature-service.js';
import { errorFields, type Logger } from '../log.js';
import type { ExampleRecord, JobOutcome, JobProgress, JobRecord, NewVersion, Store, TaskChange, TaskRecord } from '../store/types.js';
import { textHash } from '../store/ids.js';
import { labelText } from '../heads/prototype/label-text.js';
import { DomainError, isDomainError } from '../errors.js';
import { WorkerChannel } from '../workers/channel.js';
import type { JobThreadApi, JobThreadEvent, JobThreadResult } from './protocol.js';
import { rarestLabel } from '../heads/multi-label.js';
import { countsByLabel, labelsOfKey } from '../store/label-set.js';
import { candidateSpecs, checkTrainable, smallestDimension } from './plan.js';
import { DESCRIPTIONS_HELP_BELOW, type TrainingRequest } from './request.js';

export interface RunnerOptions {
  store: Store;
  features: FeatureService;
  models: ModelRegistry;
  log: Logger;
  /** Identifies this replica's claims. */
  owner: string;
  /** Jobs run at once by this replica; 0 = serve-only. */
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  /** Threads one job may use. */
  threads: number;
  /** Heap limit of a job's training process, MB (0 = Node's default). */
  heapMb: number;
  onJobEnd?: (job: JobRecord, ms: number) => void;
}

/**
 * Progress is written at most this often while it changes (with the lease, in
 * one statement): watchers on any replica read it from the store, and a
 * progress bar that moves every second looks live, where the lease's own
 * period (a third of TRANSFERD_JOB_LEASE_MS, 10 s by default) would not.
 */
const PROGRESS_WRITE_MS = 1000;

interface Running {
  job: JobRecord;
  abort: AbortController;
  /** Renews the lease now and learns whether the job was cancelled or lost meanwhile. */
  beat: () => Promise<void>;
}

export class TrainingRunner {
  private readonly running = new Map<string, Running>();
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private claiming = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: RunnerOptions) {}

  get activeJobs(): number {
    return this.running.size;
  }

  start(): void {
    if (this.o.concurrency <= 0) return;
    this.unsubscribe ??= this.o.store.onTaskChange((c) => this.changed(c));
    this.schedule(0);
  }

  /** Stops a running job the notice concerns; a notice about a job another replica runs finds nothing here. */
  private changed(c: TaskChange): void {
    if (c.kind === 'cancel_requested') {
      this.running.get(c.jobId)?.abort.abort(new DomainError('cancelled', 'cancelled on request'));
    } else if (c.kind === 'task_deleted') {
      for (const r of this.running.values())
        if (r.job.clientId === c.clientId && r.job.taskId === c.taskId) r.abort.abort(new DomainError('task_deleted', 'the task was deleted'));
    } else if (c.kind === 'reset') {
      // Notices may have been lost: ask the store about every running job now rather than at the next heartbeat.
      for (const r of this.running.values()) void r.beat();
    }
  }

  /** Claims now rather than at the next poll (a job was just queued on this replica). */
  wake(): void {
    if (!this.stopped && this.o.concurrency > 0) this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.claimLoop(), ms);
    this.timer.unref();
  }

  private async claimLoop(): Promise<void> {
    if (this.claiming || this.stopped) return;
    this.claiming = true;
    try {
      while (!this.stopped && this.running.size < this.o.concurrency) {
        const job = await this.o.store.claimJob(this.o.owner, this.o.leaseMs);
        if (!job) break;
        void this.run(job);
      }
    } catch (err) {
      this.o.log('warn', 'claiming jobs failed; will retry', errorFields(err));
    } finally {
      this.claiming = false;
      // Jittered polling spreads replicas' claims over time.
      if (!this.stopped) this.schedule(this.o.pollMs * (0.75 + Math.random() / 2));
    }
  }

  /**
   * Stops claiming and abandons running jobs: each stops after its current fit
   * and its lease lapses, so another replica (or this one, restarted) resumes it.
   */
  async stop(timeoutMs = 60_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const r of this.running.values()) r.abort.abort(new DomainError('shutdown', 'the replica is shutting down'));
    const deadline = Date.now() + timeoutMs;
    while (this.running.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.running.size) this.o.log('warn', 'training processes still busy at shutdown', { jobs: [...this.running.keys()] });
  }

  private async run(job: JobRecord): Promise<void> {
    const abort = new AbortController();
    const started = Date.now();
    const progress: JobProgress = { phase: 'starting', percent: 0, timings: [] };
    let phaseStart = Date.now();
    const phase = (name: string, percent: number) => {
      if (progress.phase !== name) {
        if (progress.phase !== 'starting') progress.timings.push({ phase: progress.phase, ms: Date.now() - phaseStart });
        phaseStart = Date.now();
      }
      progress.phase = name;
      progress.percent = Math.round(percent * 10) / 10;
    };
    /** Closes the current phase's timing for the job's final record. */
    const final = (): JobProgress => {
      phase('done', progress.percent);
      return { ...progress, timings: [...progress.timings] };
    };
    let lastBeat = 0;
    let beating = false;
    const beat = async () => {
      beating = true;
      lastBeat = Date.now();
      const r = await this.o.store.heartbeat(job.id, this.o.owner, this.o.leaseMs, progress).catch((err) => {
        this.o.log('warn', 'lease renewal failed', { job: job.id, ...errorFields(err) });
        return { owned: true, cancelRequested: false }; // a database hiccup: keep working, the lease has slack
      });
      beating = false;
      if (!r.owned) abort.abort(new DomainError('lease_lost', 'the job is no longer held by this replica'));
      else if (r.cancelRequested) abort.abort(new DomainError('cancelled', 'cancelled on request'));
    };
    const progressed = (name: string, percent: number) => {
      phase(name, percent);
      if (!beating && Date.now() - lastBeat >= PROGRESS_WRITE_MS) void beat();
    };
    this.running.set(job.id, { job, abort, beat });
    const heartbeat = setInterval(() => void beat(), Math.max(50, this.o.leaseMs / 3));
    heartbeat.unref();
    this.o.log('info', 'job started', { job: job.id, task: job.taskId, attempt: job.attempts });
    try {
      const outcome = await this.execute(job, abort.signal, progressed);
      // Stopped after its last fit: what stopped it is what the job records, not the result it no longer owns.
      abort.signal.throwIfAborted();
      await this.finish(job, { ...outcome, progress: final() }, started);
    } catch (err) {
      const reason = abort.signal.aborted ? abort.signal.reason : err;
      const failure =
        reason instanceof DomainError ? reason : new DomainError('internal_error', `training failed: ${(reason as Error)?.message ?? String(reason)}`);
      if (failure.code === 'lease_lost') {
        this.o.log('warn', 'job abandoned', { job: job.id, reason: failure.message });
      } else if (failure.code === 'task_deleted') {
        // The job went with its task: there is nothing left to record it on.
        this.o.log('info', 'job stopped: its task was deleted', { job: job.id, task: job.taskId });
      } else if (failure.code === 'shutdown' || failure.code === 'store_unavailable') {
        // Not the job's fault: back to the queue now, or, if the database cannot hear it, when the lease lapses.
        const released = await this.o.store.releaseJob(job.id, this.o.owner).catch(() => false);
        this.o.log('warn', 'job handed back to the queue', { job: job.id, released, reason: failure.message });
      } else {
        const state = failure.code === 'cancelled' ? 'cancelled' : 'failed';
        if (failure.code === 'internal_error') this.o.log('error', 'job failed', { job: job.id, ...errorFields(reason) });
        else if (state === 'failed') this.o.log('warn', 'job failed', { job: job.id, code: failure.code, reason: failure.message });
        await this.finish(
          job,
          { state, progress: final(), ...(state === 'failed' ? { error: { code: failure.code, message: failure.message } } : {}) },
          started,
        ).catch((e) => this.o.log('error', 'could not record the job end', { job: job.id, ...errorFields(e) }));
      }
    } finally {
      clearInterval(heartbeat);
      this.running.delete(job.id);
      this.wake();
    }
  }

  /**
   * Records the job's end and logs what the store made of it: a success the
   * store refused (a cancel came first) ends as cancelled, and a job that is
   * no longer ours records nothing and is not counted (onJobEnd) as ending here.
   */
  private async finish(job: JobRecord, outcome: JobOutcome, started: number): Promise<void> {
    const finished = await this.o.store.finishJob(job.id, this.o.owner, outcome);
    const ms = Date.now() - started;
    if (!finished) {
      const now = await this.o.store.getJob(job.clientId, job.taskId, job.id).catch(() => undefined);
      const why = !now
        ? 'the job was deleted with its task'
        : now.state === 'running'
          ? `the lease passed to ${now.leaseOwner ?? 'another replica'}`
          : `the job already ended as ${now.state}`;
      this.o.log('warn', 'job result discarded: the job is no longer held by this replica', { job: job.id, outcome: outcome.state, reason: why, ms });
      return;
    }
    if (finished.state === 'succeeded') this.o.log('info', 'job succeeded', { job: job.id, version: finished.versionNumber, ms });
    else if (finished.state === 'cancelled')
      this.o.log('info', outcome.state === 'succeeded' ? 'job cancelled: the cancel came before its result was recorded' : 'job cancelled', {
        job: job.id,
        ms,
      });
    this.o.onJobEnd?.(finished, ms);
  }

  private async execute(job: JobRecord, signal: AbortSignal, phase: (name: string, percent: number) => void): Promise<JobOutcome> {
    const request = job.request as TrainingRequest;
    return request.tasks ? this.executeMultitask(job, request, request.tasks, signal, phase) : this.executeSingle(job, request, signal, phase);
  }

  /** A task's examples, their labels as class indexes (multi-label: multi-hot targets), checked against the request. */
  private async examplesOf(task: TaskRecord, request: TrainingRequest, modelLayers: number, hiddenSize: number) {
    const examples: ExampleRecord[] = await this.o.store.allExamples(task.clientId, task.id);
    const stored = new Map<string, number>();
    for (const e of examples) stored.set(e.label, (stored.get(e.label) ?? 0) + 1);
    const counts = countsByLabel(task.kind, stored);
    const specs = candidateSpecs(task, request, modelLayers);
    checkTrainable(counts, request, smallestDimension(specs, hiddenSize), task.kind);
    const labels = [...counts.keys()].sort();
    const classOf = new Map(labels.map((l, i) => [l, i]));
    const n = examples.length;
    const k = labels.length;
    // Multi-label: every example's set as a multi-hot row, and its rarest label to stratify folds by.
    const targets = task.kind === 'multi_label' ? new Uint8Array(n * k) : undefined;
    if (targets) for (const [i, e] of examples.entries()) for (const l of labelsOfKey(e.label)) targets[i * k + classOf.get(l)!] = 1;
    const y = targets ? rarestLabel(targets, n, k) : Int32Array.from(examples, (e) => classOf.get(e.label)!);
    return { task, examples, specs, labels, y, targets, n };
  }

  /** The job's own task and its model's encoder. */
  private async taskAndEncoder(job: JobRecord) {
    const task = await this.o.store.getTask(job.clientId, job.taskId);
    if (!task) throw new DomainError('task_deleted', 'the task was deleted');
    const encoder = this.o.models.get(task.spec.model);
    if (!encoder) throw new DomainError('model_unavailable', `model ${task.spec.model} is not loaded on this replica`);
    return { task, encoder };
  }

  private async executeSingle(
    job: JobRecord,
    request: TrainingRequest,
    signal: AbortSignal,
    phase: (name: string, percent: number) => void,
  ): Promise<JobOutcome> {
    const { task: own, encoder } = await this.taskAndEncoder(job);
    const { task, examples, specs, labels, y, targets, n } = await this.examplesOf(own, request, encoder.manifest.layers, encoder.manifest.hiddenSize);
    // The task's label descriptions, as one extra training row each, where they help (few examples a label).
    const described = descriptionRows(task, labels, request, y);
    const texts = [...examples.map((e) => e.text), ...described.map((d) => d.text)];

    phase('features', 1);
    const feats = await this.o.features.forTraining(
      job.clientId,
      specs,
      texts,
      texts.map((t, i) => (i < n ? examples[i]!.textHash : textHash(t))),
      { signal, onProgress: (done, total) => phase('features', 1 + (total ? (24 * done) / total : 24)) },
    );
    signal.throwIfAborted();
    const rowsY = described.length ? Int32Array.from([...y, ...described.map((d) => d.label)]) : y;

    // Copied into the training process as they are: no shared copy is kept here.
    const candidates = feats.matrices.map((m) => ({ spec: m.spec, dim: specDimensions(m.spec, encoder.manifest.hiddenSize), x: m.x }));
    phase('training', 25);
    const result = await this.train(
      'run',
      { request, labels, y: rowsY, ...(targets ? { targets } : {}), n, extraRows: described.length, candidates, threads: this.o.threads },
      signal,
      (name, fraction) => phase(name, 25 + 70 * fraction),
    );
    const version = versionOf(result, candidates[result.chosen]!.spec, labels, examples, y, { specs: specs.length, examples: n, encoded_texts: feats.encoded });
    version.report = { ...(version.report as object), label_descriptions: { rows: described.length, labels: described.map((d) => labels[d.label]) } };
    return { state: 'succeeded', activate: request.activate, version };
  }

  /** Several tasks trained together (./multitask.ts): one version each, written with the job's end. */
  private async executeMultitask(
    job: JobRecord,
    request: TrainingRequest,
    taskIds: string[],
    signal: AbortSignal,
    phase: (name: string, percent: number) => void,
  ): Promise<JobOutcome> {
    const { task: first, encoder } = await this.taskAndEncoder(job);
    const { layers, hiddenSize } = encoder.manifest;
    const tasks: Array<Awaited<ReturnType<TrainingRunner['examplesOf']>> & { x: Float32Array; encoded: number }> = [];
    for (const [i, taskId] of taskIds.entries()) {
      const other = taskId === first.id ? first : await this.o.store.getTask(job.clientId, taskId);
      if (!other) throw new DomainError('task_deleted', `task ${taskId} was deleted`);
      const t = await this.examplesOf(other, request, layers, hiddenSize);
      if (specKey(t.task.spec) !== specKey(first.spec))
        throw new DomainError('invalid_value', `task ${taskId} no longer has the feature spec of task ${first.id}`);
      phase('features', 1 + (24 * i) / taskIds.length);
      const feats = await this.o.features.forTraining(
        job.clientId,
        [first.spec],
        t.examples.map((e) => e.text),
        t.examples.map((e) => e.textHash),
        { signal },
      );
      signal.throwIfAborted();
      tasks.push({ ...t, x: feats.matrices[0]!.x, encoded: feats.encoded });
    }
    phase('training', 25);
    const dim = specDimensions(first.spec, hiddenSize);
    const result = await this.train(
      'runMultitask',
      {
        request,
        tasks: tasks.map((t) => ({ taskId: t.task.id, labels: t.labels, y: t.y, n: t.n, spec: first.spec, dim, x: t.x })),
        threads: this.o.threads,
      },
      signal,
      (name, fraction) => phase(name, 25 + 70 * fraction),
    );
    const versions = result.tasks.map((r, i) => {
      const t = tasks[i]!;
      return { taskId: t.task.id, version: versionOf(r, first.spec, t.labels, t.examples, t.y, { specs: 1, examples: t.n, encoded_texts: t.encoded }) };
    });
    return { state: 'succeeded', activate: request.activate, version: versions[0]!.version, others: versions.slice(1) };
  }

  /**
   * Runs the job in a training process of its own; its crash fails this job
   * only. Aborting drops the call, which sets the job's cancel flag in the
   * process: it stops after the pool tasks running then (stopping a thread
   * inside a native onnxruntime call would abort the process), and exits
   * before the job's end is recorded, so the next job starts on free memory.
   */
  private async train<M extends 'run' | 'runMultitask'>(
    method: M,
    args: Parameters<JobThreadApi[M]>[0],
    signal: AbortSignal,
    onProgress: (phase: string, fraction: number) => void,
  ): Promise<Awaited<ReturnType<JobThreadApi[M]>>> {
    const job = new WorkerChannel<JobThreadApi, JobThreadEvent>({
      url: new URL('./job-process.js', import.meta.url),
      name: 'the training process',
      isolation: 'process',
      ...(this.o.heapMb > 0 ? { resourceLimits: { maxOldGenerationSizeMb: this.o.heapMb } } : {}),
    });
    job.on('event', (e) => onProgress(e.phase, e.fraction));
    try {
      return (await job.call(method, args as never, { signal })) as Awaited<ReturnType<JobThreadApi[M]>>;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const cause = (err as Error).cause as { code?: string } | undefined;
      if (isDomainError(err, 'worker_crashed') && cause?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new DomainError('worker_crashed', `the training process ran out of memory (limit ${this.o.heapMb} MB)`);
      }
      throw err;
    } finally {
      await job.stop();
    }
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
): NewVersion {
  const { predicted, map } = result.evaluation;
  // Four decimals: far finer than a plot can show, and a third of the JSON of full floats.
  const coord = (axis: 0 | 1) => Array.from({ length: map.rows.length }, (_, i) => Math.round(map.coords[2 * i + axis]! * 1e4) / 1e4);
  return {
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
      map: { method: map.method, explainedVarianceRatio: map.explainedVarianceRatio, rows: Array.from(map.rows), x: coord(0), y: coord(1) },
    },
  };
}

/**
 * The label descriptions a single-label job trains on beside its examples:
 * each described label that has examples, its description through the
 * zero-shot template. `auto` takes them below DESCRIPTIONS_HELP_BELOW
 * examples a label (the median), where bench:little-data measured them helping.
 */
function descriptionRows(task: TaskRecord, labels: string[], request: TrainingRequest, y: Int32Array): Array<{ text: string; label: number }> {
  if (task.kind !== 'single_label' || request.labelDescriptions === false) return [];
  const rows = task.labels.filter((l) => l.description && labels.includes(l.name)).map((l) => ({ text: labelText(l), label: labels.indexOf(l.name) }));
  if (request.labelDescriptions === true || rows.length === 0) return rows;
  const counts = new Array<number>(labels.length).fill(0);
  for (const c of y) counts[c]!++;
  counts.sort((a, b) => a - b);
  return counts[Math.floor(counts.length / 2)]! < DESCRIPTIONS_HELP_BELOW ? rows : [];
}
