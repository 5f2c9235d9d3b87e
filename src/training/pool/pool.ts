/**
 * A pool of worker threads that lives as long as a training job: every
 * cross-validation fold, kernel conversion and final fit of the job runs on
 * the same threads, instead of each fit starting (and compiling) threads of
 * its own. Tasks queue FIFO and go to the next idle worker; workers start on
 * first use, and one that died is replaced on the next task. Once the job is
 * cancelled, queued and new tasks are refused: the job stops after the tasks
 * running now (a fold's trees, a block of kernel rows), not after whole fits.
 */
import { DomainError } from '../../errors.js';
import type { TaskOutcome, WorkerPool } from '../../heads/head.js';
import { WorkerChannel } from '../../workers/channel.js';
import type { PoolApi, PoolTask } from './pool-protocol.js';

interface Queued {
  task: PoolTask;
  resolve: (o: TaskOutcome<unknown>) => void;
  reject: (e: Error) => void;
}

export class TrainingPool implements WorkerPool {
  private readonly idle: WorkerChannel<PoolApi>[] = [];
  private readonly all: WorkerChannel<PoolApi>[] = [];
  private readonly queue: Queued[] = [];
  private closed = false;

  constructor(
    readonly size: number,
    /** True once the job is cancelled (its shared cancel flag). */
    private readonly cancelled: () => boolean = () => false,
  ) {
    if (!(Number.isInteger(size) && size >= 1)) throw new Error(`pool size must be an integer ≥ 1, got ${size}`);
  }

  run(head: string, op: string, args: unknown): Promise<TaskOutcome<unknown>> {
    if (this.closed) return Promise.reject(new Error('training pool is closed'));
    if (this.cancelled()) return Promise.reject(cancelledError());
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { head, op, args }, resolve, reject });
      this.dispatch();
    });
  }

  /** Refuses queued tasks and stops every worker after its current task (their results are dropped). */
  async close(): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new Error('training pool closed'));
    await Promise.all(this.all.map((w) => w.stop()));
  }

  private dispatch(): void {
    if (this.cancelled()) for (const q of this.queue.splice(0)) q.reject(cancelledError());
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.all.length < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift()!;
      worker.call('run', job.task).then(
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

  private spawn(): WorkerChannel<PoolApi> {
    const w = new WorkerChannel<PoolApi>({ url: new URL('./pool-worker.js', import.meta.url), name: 'training pool worker' });
    this.all.push(w);
    return w;
  }
}

const cancelledError = () => new DomainError('cancelled', 'cancelled');
