/**
 * A pool of worker threads that lives as long as a training job: every
 * cross-validation fold, kernel conversion and final fit of the job runs on
 * the same threads, instead of each fit starting (and compiling) threads of
 * its own. Tasks queue FIFO and go to the next idle worker; workers start on
 * first use. Threads started from a niced job thread inherit its priority.
 */
import { Worker } from 'node:worker_threads';
import type { Dataset } from '../types.js';
import type { PoolResults, PoolTask, TaskOf } from './tasks.js';
import type { FromPoolWorker, ToPoolWorker } from './worker.js';

/** `data` with its rows and labels in shared memory (copied once unless already there), so tasks post it without a copy. */
export function sharedDataset(data: Dataset): Dataset {
  const isShared = (a: ArrayBufferView) => a.buffer instanceof SharedArrayBuffer;
  if (isShared(data.x) && isShared(data.y)) return data;
  const x = new Float32Array(new SharedArrayBuffer(data.n * data.dim * 4));
  x.set(data.x.subarray(0, data.n * data.dim));
  const y = new Int32Array(new SharedArrayBuffer(data.n * 4));
  y.set(data.y.subarray(0, data.n));
  return { ...data, x, y };
}

/** [from, to) ranges splitting 0..n into at most `parts` contiguous, nearly equal, non-empty pieces (one piece when n is 0). */
export function evenRanges(n: number, parts: number): Array<[number, number]> {
  const k = Math.max(1, Math.min(parts, n));
  return Array.from({ length: k }, (_, i) => [Math.round((i * n) / k), Math.round(((i + 1) * n) / k)]);
}

export interface TaskOutcome<T> {
  result: T;
  /** Time the worker spent on the task. */
  ms: number;
}

interface Queued {
  task: PoolTask;
  resolve: (o: TaskOutcome<unknown>) => void;
  reject: (e: Error) => void;
}

export class HeadPool {
  private readonly idle: PoolWorker[] = [];
  private readonly all: PoolWorker[] = [];
  private readonly queue: Queued[] = [];
  private closed = false;

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= 1)) throw new Error(`pool size must be an integer ≥ 1, got ${size}`);
  }

  run<K extends PoolTask['kind']>(task: TaskOf<K>): Promise<TaskOutcome<PoolResults[K]>> {
    if (this.closed) return Promise.reject(new Error('head pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve: resolve as Queued['resolve'], reject });
      this.dispatch();
    });
  }

  /**
   * Refuses queued tasks, lets running ones finish, and waits for every
   * worker to end itself.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error('head pool closed'));
    await Promise.all(this.all.map((w) => w.close()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.all.length < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift()!;
      worker.run(job.task).then(
        (o) => {
          this.idle.push(worker);
          job.resolve(o);
          this.dispatch();
        },
        (e: Error) => {
          // A worker that failed a task stays usable unless it died; a dead one is replaced on demand.
          if (worker.alive) this.idle.push(worker);
          else this.all.splice(this.all.indexOf(worker), 1);
          job.reject(e);
          this.dispatch();
        },
      );
    }
  }

  private spawn(): PoolWorker {
    const w = new PoolWorker();
    this.all.push(w);
    return w;
  }
}

/** One worker thread, one task at a time. */
class PoolWorker {
  alive = true;
  private readonly worker = new Worker(new URL('./worker.js', import.meta.url));
  private readonly exited: Promise<void>;
  private pending: { resolve: (o: TaskOutcome<unknown>) => void; reject: (e: Error) => void } | null = null;

  constructor() {
    this.worker.on('message', (m: FromPoolWorker) => {
      const p = this.pending;
      this.pending = null;
      if (m.type === 'error') p?.reject(Object.assign(new Error(`head pool worker: ${m.message}`), m.stack ? { stack: m.stack } : {}));
      else p?.resolve({ result: m.result, ms: m.ms });
    });
    this.worker.on('error', (e) => this.fail(e));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.fail(new Error(`head pool worker exited with code ${code}`));
        resolve();
      }),
    );
  }

  run(task: PoolTask): Promise<TaskOutcome<unknown>> {
    return new Promise((resolve, reject) => {
      if (!this.alive) return reject(new Error('head pool worker is gone'));
      this.pending = { resolve, reject };
      this.worker.postMessage({ type: 'task', task } satisfies ToPoolWorker);
    });
  }

  /** Asks the worker to end after its current task; resolves when it has. */
  close(): Promise<void> {
    if (this.alive) this.worker.postMessage({ type: 'close' } satisfies ToPoolWorker);
    return this.exited;
  }

  private fail(e: Error): void {
    this.alive = false;
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }
}
