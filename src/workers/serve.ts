/**
 * The worker-thread side of a WorkerChannel: answers calls with the given
 * handlers, emits events, and exits when asked to stop (see ./channel.ts for
 * the rules both sides keep).
 */
import { parentPort } from 'node:worker_threads';
import { DomainError } from '../errors.js';
import { type Api, type CallContext, type FromWorker, Reply, type ToWorker, type WireError } from './protocol.js';

export interface ServeOptions {
  /**
   * Runs when the main side asks the worker to stop; the worker exits when it
   * resolves. Use it to let a native call in progress finish and to drop
   * queued work (pending calls were already failed on the main side).
   */
  onStop?: () => void | Promise<void>;
}

export interface Served<E> {
  /** Sends an event to the main side. */
  emit(event: E, transfer?: ArrayBuffer[]): void;
}

/** `value` with `transfer` moved instead of copied. */
export function reply<T>(value: T, transfer: ArrayBuffer[]): Reply<T> {
  return new Reply(value, transfer);
}

/** An error as it crosses to the main side: the message and code travel, the stack only for logs. */
export function toWire(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    message: err.message,
    ...(err instanceof DomainError ? { code: err.code, param: err.param } : {}),
    ...(err.stack ? { stack: err.stack } : {}),
  };
}

interface Port {
  post(m: FromWorker, transfer: ArrayBuffer[]): void;
  onMessage(fn: (m: ToWorker) => void): void;
}

/** The main side: a worker thread's parent port, or a child process's IPC channel. */
function mainSide(): Port | undefined {
  if (parentPort) {
    const port = parentPort;
    return { post: (m, transfer) => port.postMessage(m, transfer), onMessage: (fn) => port.on('message', fn) };
  }
  if (!process.send) return undefined;
  // A process whose parent died has nobody to answer: it goes at once. (A normal exit would first stop its
  // worker threads, and a thread stopped inside a native onnxruntime call aborts the process.)
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  return { post: (m) => process.send?.(m), onMessage: (fn) => process.on('message', (m) => fn(m as ToWorker)) };
}

/** Starts answering calls with `handlers` and tells the main side the worker is ready. */
export function serve<A extends Api, E = never>(handlers: A, options: ServeOptions = {}): Served<E> {
  const port = mainSide();
  if (!port) throw new Error('serve() runs in a worker thread or a child process started by a WorkerChannel');
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.post(m, transfer);
  const calls = new Map<number, AbortController>();
  let stopping = false;

  const answer = async (id: number, method: string, args: unknown) => {
    const controller = new AbortController();
    calls.set(id, controller);
    try {
      const handler = handlers[method];
      if (!handler) throw new Error(`no handler for "${method}"`);
      const context: CallContext = { signal: controller.signal };
      const result = await (handler as (args: unknown, call: CallContext) => unknown)(args, context);
      if (controller.signal.aborted) return;
      if (result instanceof Reply) post({ kind: 'reply', id, ok: true, value: result.value }, result.transfer);
      else post({ kind: 'reply', id, ok: true, value: result });
    } catch (err) {
      if (!controller.signal.aborted) post({ kind: 'reply', id, ok: false, error: toWire(err) });
    } finally {
      calls.delete(id);
    }
  };

  port.onMessage((m) => {
    if (m.kind === 'call') {
      if (!stopping) void answer(m.id, m.method, m.args);
    } else if (m.kind === 'cancel') {
      calls.get(m.id)?.abort();
    } else if (m.kind === 'stop' && !stopping) {
      stopping = true;
      for (const c of calls.values()) c.abort();
      void Promise.resolve(options.onStop?.()).finally(() => process.exit(0));
    }
  });
  post({ kind: 'ready' });
  return { emit: (event, transfer = []) => post({ kind: 'event', data: event }, transfer) };
}
