/**
 * A head pool's worker: runs the tasks it is sent, one at a time, until told
 * to close, then ends itself (never terminated from outside, since a thread
 * stopped inside an onnxruntime call aborts the whole process).
 */
import { parentPort } from 'node:worker_threads';
import { runTask, transferables, type PoolTask } from './tasks.js';

export type ToPoolWorker = { type: 'task'; task: PoolTask } | { type: 'close' };
export type FromPoolWorker = { type: 'done'; result: unknown; ms: number } | { type: 'error'; message: string; stack?: string };

const port = parentPort!;
port.on('message', (msg: ToPoolWorker) => {
  if (msg.type === 'close') {
    port.close();
    return;
  }
  try {
    const started = performance.now();
    const result = runTask(msg.task);
    const reply: FromPoolWorker = { type: 'done', result, ms: performance.now() - started };
    port.postMessage(reply, transferables(result));
  } catch (e) {
    // The message can reach a job's recorded error (and so an API response); the stack is for logs only.
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ type: 'error', message: err.message, ...(err.stack ? { stack: err.stack } : {}) } satisfies FromPoolWorker);
  }
});
