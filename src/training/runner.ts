/**
 * Runs training jobs through their lifecycle: claims them from the store
 * with a lease, renews it while the job runs (writing its progress), stops a
 * job that is cancelled or lost, and writes its end (the versions too) in one
 * transaction, or hands it back to the queue. What a job computes is
 * ./job.ts's.
 *
 * A replica that dies stops renewing its lease; another replica claims the
 * job again. A replica never writes a job it no longer holds.
 *
 * A cancellation or the deletion of the task reaches the replica running the
 * job through the store's change notices, and stops it at once (its training
 * process stops after the pool tasks running then); the lease heartbeat finds
 * the cancellation too, should a notice be lost.
 */
import { errorFields, type Logger } from '../log.js';
import type { JobOutcome, JobProgress, JobRecord, TaskChange } from '../store/types.js';
import { DomainError } from '../errors.js';
import { executeJob, type JobEnvironment } from './job.js';

export interface RunnerOptions extends JobEnvironment {
  log: Logger;
  /** Identifies this replica's claims. */
  owner: string;
  /** Jobs run at once by this replica; 0 = serve-only. */
  concurrency: number;
  leaseMs: number;
  pollMs: number;
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
    const progressed = (name: string, percent: number, detail?: Pick<JobProgress, 'fineTune'>) => {
      phase(name, percent);
      if (detail) Object.assign(progress, detail);
      if (!beating && Date.now() - lastBeat >= PROGRESS_WRITE_MS) void beat();
    };
    this.running.set(job.id, { job, abort, beat });
    const heartbeat = setInterval(() => void beat(), Math.max(50, this.o.leaseMs / 3));
    heartbeat.unref();
    this.o.log('info', 'job started', { job: job.id, task: job.taskId, attempt: job.attempts });
    try {
      const outcome = await executeJob(this.o, job, abort.signal, progressed);
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
}
