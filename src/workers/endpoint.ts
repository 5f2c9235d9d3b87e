/**
 * The other end of a WorkerChannel: a worker thread, or a child process.
 *
 * A thread shares the process's memory, and cheaply (SharedArrayBuffers
 * cross without a copy). A child process costs a start and a copy of what
 * crosses, but everything it allocated goes back to the system when it exits:
 * a thread's V8 heap goes with the thread, while what its native code
 * (onnxruntime, typed arrays) allocated stays in the process's malloc arenas
 * for good. Five training jobs in threads left a server holding 700 MB of such
 * freed memory (malloc_trim gave it back), so each job runs in a process.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker } from './protocol.js';

export type Isolation = 'thread' | 'process';

/** Messages from the worker; `error` when it crashed, then `exit` with how it ended, once. */
export class Endpoint extends EventEmitter<{ message: [FromWorker]; error: [Error]; exit: [string] }> {
  constructor(readonly post: (message: ToWorker, transfer: ArrayBuffer[]) => void) {
    super();
  }
}

export interface EndpointOptions {
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
}

export function startEndpoint(url: URL, isolation: Isolation, options: EndpointOptions): Endpoint {
  return isolation === 'process' ? processEndpoint(url, options) : threadEndpoint(url, options);
}

function threadEndpoint(url: URL, options: EndpointOptions): Endpoint {
  const worker = new Worker(url, { workerData: options.workerData, ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}) });
  const end = new Endpoint((m, transfer) => worker.postMessage(m, transfer));
  worker.on('message', (m: FromWorker) => end.emit('message', m));
  worker.on('error', (err) => end.emit('error', err));
  worker.on('exit', (code) => end.emit('exit', `exited with code ${code}`));
  return end;
}

/** Lines of the child's stderr kept to say why it died (V8 prints its out-of-memory error there). */
const STDERR_TAIL = 4096;

function processEndpoint(url: URL, options: EndpointOptions): Endpoint {
  if (options.workerData !== undefined) throw new Error('a child process takes its input through calls, not workerData');
  const heap = options.resourceLimits?.maxOldGenerationSizeMb;
  const child: ChildProcess = fork(fileURLToPath(url), [], {
    // Typed arrays, Maps and errors cross as they would to a thread (copied, not shared).
    serialization: 'advanced',
    execArgv: heap ? [`--max-old-space-size=${heap}`] : [],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  const end = new Endpoint((m) => {
    if (child.connected) child.send(m);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
  });
  child.on('message', (m) => end.emit('message', m as FromWorker));
  child.on('error', (err) => end.emit('error', err));
  child.on('exit', (code, signal) => {
    // Why it died, as Node or V8 printed it: the last error line (an uncaught exception, a fatal error).
    const lines = stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const why = (lines.filter((l) => /error/i.test(l)).pop() ?? lines.pop())?.slice(0, 300);
    if (/heap out of memory|Reached heap limit/.test(stderr)) {
      // As a worker thread reports it, so callers handle both alike.
      end.emit('error', Object.assign(new Error(`ran out of memory: ${why}`), { code: 'ERR_WORKER_OUT_OF_MEMORY' }));
    }
    end.emit('exit', `${signal ? `was killed by ${signal}` : `exited with code ${code}`}${why ? ` (${why})` : ''}`);
  });
  return end;
}
