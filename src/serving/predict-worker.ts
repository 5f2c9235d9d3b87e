/**
 * A predict worker: unpacks artifacts, loads predictors through the head
 * registry (never the training code), and scores feature rows. Kept off the
 * event loop because scoring a large batch against an SVM with thousands of
 * support vectors is real CPU work. Keeps the heads held-heads.ts allows.
 */
import { workerData } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import type { Predictor } from '../heads/head.js';
import { loadPredictor } from '../heads/registry.js';
import { reply, serve } from '../workers/serve.js';
import { HeldHeads, type HeldLimits } from '../lib/held-heads.js';
import type { PredictApi } from './predict-protocol.js';
import { estimatePrior } from './label-prior.js';
import { suggestTypical } from './typical-picks.js';

const held = new HeldHeads(workerData as HeldLimits);
const predictors = new Map<string, Predictor>();

function predictorFor(versionId: string, artifact?: Uint8Array): Predictor | undefined {
  let p = predictors.get(versionId);
  if (p) {
    held.use(versionId, 0);
    return p;
  }
  if (!artifact) return undefined;
  const json = gunzipSync(artifact);
  // One onnxruntime thread: the pool's workers are the parallelism, and more threads per worker would oversubscribe the cores.
  p = loadPredictor(JSON.parse(json.toString('utf8')), { threads: 1 });
  predictors.set(versionId, p);
  for (const gone of held.use(versionId, json.byteLength)) predictors.delete(gone);
  return p;
}

serve<PredictApi>({
  predict({ versionId, artifact, x, n }) {
    const p = predictorFor(versionId, artifact);
    if (!p) return { missing: true };
    const started = performance.now();
    const probabilities = p.predictProba(x, n);
    return reply({ probabilities, classes: p.classes, ms: performance.now() - started }, [probabilities.buffer as ArrayBuffer]);
  },
  estimatePrior({ probabilities, n, k }) {
    return estimatePrior(probabilities, n, k);
  },
  selectTypical({ input, count }) {
    return suggestTypical(input, count);
  },
  forget({ versionIds }) {
    for (const id of versionIds) {
      held.delete(id);
      predictors.delete(id);
    }
  },
});
