/**
 * A predict worker: unpacks artifacts, builds predictors, and scores feature
 * rows. Kept off the event loop because scoring a large batch against an SVM
 * with thousands of support vectors is real CPU work.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { loadPredictor } from '../heads/adapters.js';
import type { Predictor } from '../heads/types.js';
import type { FromPredictWorker, ToPredictWorker } from './predict-protocol.js';

const { maxPredictors } = workerData as { maxPredictors: number };
const predictors = new Map<string, Predictor>(); // insertion order = recency
const post = (m: FromPredictWorker, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

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

parentPort!.on('message', (m: ToPredictWorker) => {
  if (m.type === 'shutdown') process.exit(0);
  try {
    const p = predictorFor(m.versionId, m.artifact);
    if (!p) return post({ type: 'missing', id: m.id });
    const probabilities = p.predictProba(m.x, m.n);
    post({ type: 'result', id: m.id, probabilities, classes: p.classes }, [probabilities.buffer as ArrayBuffer]);
  } catch (err) {
    post({ type: 'error', id: m.id, message: (err as Error).message });
  }
});
