/**
 * Worker entry for one training job. Runs at the lowest CPU priority (Linux
 * nice values are per thread, and threads it starts inherit it), so training
 * yields the cores to the event loop and the encoder serving requests.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromJobThread, JobThreadInput } from './protocol.js';
import { isDomainError } from '../errors.js';
import { runPipeline } from './pipeline.js';

const post = (m: FromJobThread) => parentPort!.postMessage(m);
try {
  setPriority(19);
} catch {
  // not permitted on some platforms: train at normal priority
}
let last = 0;
try {
  const result = await runPipeline(workerData as JobThreadInput, (phase, fraction) => {
    const now = Date.now();
    if (now - last < 200 && fraction < 1) return; // progress is for humans: a few updates a second is plenty
    last = now;
    post({ type: 'progress', phase, fraction });
  });
  post({ type: 'result', result });
} catch (err) {
  post({ type: 'error', code: isDomainError(err) ? err.code : 'training_failed', message: (err as Error).message });
}
