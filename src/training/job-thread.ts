/**
 * Worker entry for one training job. Runs at the lowest CPU priority (Linux
 * nice values are per thread, and threads it starts inherit it), so training
 * yields the cores to the event loop and the encoder serving requests.
 */
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import { serve } from '../workers/serve.js';
import { runPipeline } from './pipeline.js';
import type { JobThreadApi, JobThreadEvent, JobThreadInput } from './protocol.js';

try {
  setPriority(19);
} catch {
  // not permitted on some platforms: train at normal priority
}

let last = 0;
const served = serve<JobThreadApi, JobThreadEvent>({
  run: () =>
    runPipeline(workerData as JobThreadInput, (phase, fraction) => {
      const now = Date.now();
      if (now - last < 200 && fraction < 1) return; // progress is for humans: a few updates a second is plenty
      last = now;
      served.emit({ type: 'progress', phase, fraction });
    }),
});
