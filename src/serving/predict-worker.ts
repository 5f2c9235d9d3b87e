/**
 * A predict worker: unpacks artifacts, loads predictors through the head
 * registry (never the training code), and scores feature rows. Kept off the
 * event loop because scoring a large batch against an SVM with thousands of
 * support vectors is real CPU work.
 */
import { workerData } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import type { Predictor } from '../heads/head.js';
import { loadPredictor } from '../heads/registry.js';
import { reply, serve } from '../workers/serve.js';
import type { PredictApi } from './predict-protocol.js';

const { maxPredictors } = workerData as { maxPredictors: number };
const predictors = new Map<string, Predictor>(); // insertion order = recency

function predictorFor(versionId: string, artifact?: Uint8Array): Predictor | undefined {
  let p = predictors.get(versionId);
  if (p) {
    predictors.delete(versionId);
    predictors.set(versionId, p);
    return p;
  }
  if (!artifact) return undefined;
  // One onnxruntime thread: the pool's workers are the parallelism, and more threads per worker would oversubscribe the cores.
  p = loadPredictor(JSON.parse(gunzipSync(artifact).toString('utf8')), { threads: 1 });
  predictors.set(versionId, p);
  while (predictors.size > maxPredictors) predictors.delete(predictors.keys().next().value!);
  return p;
}

serve<PredictApi>({
  predict({ versionId, artifact, x, n }) {
    const p = predictorFor(versionId, artifact);
    if (!p) return { missing: true };
    const probabilities = p.predictProba(x, n);
    return reply({ probabilities, classes: p.classes }, [probabilities.buffer as ArrayBuffer]);
  },
  forget({ versionIds }) {
    for (const id of versionIds) predictors.delete(id);
  },
});
