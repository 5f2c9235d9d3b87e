/**
 * The main-thread side of a worker thread: typed calls answered by the
 * worker's `serve` handlers, events the worker emits, and the thread's life.
 * Every worker of the service (encoder, predict pool, training pool, job
 * thread) is started, called and stopped through this one class, so they
 * share these rules:
 *
 * - Calls carry ids; a reply settles exactly its call. A call whose signal
 *   fires is rejected at once and the worker is told (it may drop the work).
 * - A worker that dies fails every pending call once, with `worker_crashed`,
 *   however many of its `error` and `exit` events arrive.
 * - `stop()` is cooperative: the worker runs its onStop hook and exits by
 *   itself. No thread is ever terminated from outside: terminating a thread
 *   inside a native onnxruntime call aborts the whole process.
 * - With `restartDelayMs`, a worker that died is replaced after that pause
 *   (a worker that cannot start does not spin); without, the channel stays dead.
 * - With `isolation: 'process'` the worker is a child process rather than a
 *   thread, on the same terms (endpoint.ts says when that is worth it).
 */
import { EventEmitter } from 'node:events';
import type { ResourceLimits } from 'node:worker_threads';
import { DomainError } from '../errors.js';
import { type Endpoint, type Isolation, startEndpoint } from './endpoint.js';
import type { Api, ArgsOf, FromWorker, ResultOf, ToWorker, WireError } from './protocol.js';

export interface ChannelOptions {
  /** The worker's entry module. */
  url: URL;
  /** Names the worker in errors and logs ("encoder all-MiniLM-L6-v2"). */
  name: string;
  workerData?: unknown;
  /** A process's heap limit is its --max-old-space-size. */
  resourceLimits?: ResourceLimits;
  /** A worker thread (default), or a child process whose memory all goes back to the system when it exits. */
  isolation?: Isolation;
  /** Replace a worker that died after this many milliseconds; unset: never. */
  restartDelayMs?: number;
}

export interface CallOptions {
  /** Buffers moved to the worker instead of copied (unusable here afterwards). */
  transfer?: ArrayBuffer[];
  signal?: AbortSignal;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
}

export interface ChannelEvents<E> {
  /** An event the worker emitted. */
  event: [E];
  /** The worker is loaded and serving (again, after a restart). */
  ready: [];
  /** The worker died; `reason` says how. Not emitted for a requested stop. */
  exit: [reason: string, error: DomainError];
}

/** Rebuilds a worker's error on this side: DomainErrors keep their code; the stack is kept for logs, out of the message. */
export function fromWire(e: WireError): Error {
  const err = e.code ? new DomainError(e.code, e.message, e.param ?? null) : new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

export class WorkerChannel<A extends Api, E = never> extends EventEmitter<ChannelEvents<E>> {
  private worker!: Endpoint;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private isReady = false;
  private isAlive = false;
  private stopping: Promise<void> | undefined;
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(private readonly options: ChannelOptions) {
    super();
    this.spawn();
  }

  /** True once the worker has called `serve`, until it dies or stops. */
  get ready(): boolean {
    return this.isReady;
  }

  /** False once the worker died (until a restart replaces it) or stopped. */
  get alive(): boolean {
    return this.isAlive;
  }

  /** Calls waiting for their reply. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** Resolves when the worker serves; rejects if it dies first. */
  whenReady(): Promise<void> {
    if (this.isReady) return Promise.resolve();
    if (!this.isAlive) return Promise.reject(new DomainError('worker_crashed', `${this.options.name} is not running`));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  call<M extends keyof A & string>(method: M, args: ArgsOf<A, M>, options: CallOptions = {}): Promise<ResultOf<A, M>> {
    if (!this.isAlive || this.stopping) return Promise.reject(new DomainError('worker_crashed', `${this.options.name} is not running`));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.nextId++;
    return new Promise<ResultOf<A, M>>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        this.post({ kind: 'cancel', id });
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) });
      this.post({ kind: 'call', id, method, args }, options.transfer);
    });
  }

  /**
   * Asks the worker to finish (its onStop hook) and exit; resolves when it
   * has. Calls still pending are rejected now. A stopped channel never restarts.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.failAll(new DomainError('shutdown', `${this.options.name} is shutting down`));
      if (!this.isAlive) return;
      const exited = new Promise<void>((ok) => this.worker.once('exit', () => ok()));
      this.post({ kind: 'stop' });
      await exited;
    })();
    return this.stopping;
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.post(message, transfer);
  }

  private spawn(): void {
    const worker = startEndpoint(this.options.url, this.options.isolation ?? 'thread', {
      workerData: this.options.workerData,
      ...(this.options.resourceLimits ? { resourceLimits: this.options.resourceLimits } : {}),
    });
    this.worker = worker;
    this.isAlive = true;
    this.isReady = false;
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    let ended = false;
    // A crash fires `error` and then `exit`: the first one ends this worker's life, once.
    const end = (reason: string, cause?: Error) => {
      if (ended || this.worker !== worker) return;
      ended = true;
      this.isAlive = false;
      this.isReady = false;
      if (this.stopping) return;
      const error = new DomainError('worker_crashed', `${this.options.name} stopped: ${reason}`);
      if (cause) error.cause = cause;
      this.failAll(error);
      for (const w of this.readyWaiters.splice(0)) w.reject(error);
      this.emit('exit', reason, error);
      const delay = this.options.restartDelayMs;
      if (delay !== undefined) setTimeout(() => !this.stopping && this.spawn(), delay).unref();
    };
    worker.on('error', (err) => end(err.message, err));
    worker.on('exit', (how) => end(how));
  }

  private onMessage(m: FromWorker): void {
    switch (m.kind) {
      case 'ready':
        this.isReady = true;
        for (const w of this.readyWaiters.splice(0)) w.resolve();
        this.emit('ready');
        return;
      case 'event':
        this.emit('event', m.data as E);
        return;
      case 'reply': {
        const p = this.pending.get(m.id);
        if (!p) return; // cancelled or failed meanwhile
        this.pending.delete(m.id);
        p.cleanup();
        if (m.ok) p.resolve(m.value);
        else p.reject(fromWire(m.error));
        return;
      }
    }
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.cleanup();
      p.reject(err);
    }
  }
}

/** Why an aborted call failed: the signal's reason when it is one of ours, else the client went away. */
function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof DomainError ? signal.reason : new DomainError('client_closed_request', 'the client closed the request');
}
