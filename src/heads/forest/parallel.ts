/**
 * A forest grown on several worker threads: each grows a contiguous range of
 * trees (tree i is seeded from (seed, i)), so the merged forest is
 * byte-identical to one grown on a single thread.
 */
import { Worker } from 'node:worker_threads';
import type { Dataset } from '../types.js';
import type { FlatTree } from './cart.js';
import type { ForestArtifact } from './model.js';
import { resolveForestParams, type ForestParams, type ResolvedForestParams } from './params.js';
import { assembleForest, trainTrees } from './train.js';

export interface TreeWorkerInput {
  data: Dataset;
  params: ResolvedForestParams;
  from: number;
  to: number;
}

/** Copies into shared memory unless already there, so workers read the rows without a copy each. */
function sharedDataset(data: Dataset): Dataset {
  if (data.x.buffer instanceof SharedArrayBuffer && data.y.buffer instanceof SharedArrayBuffer) return data;
  const x = new Float32Array(new SharedArrayBuffer(data.n * data.dim * 4));
  x.set(data.x.subarray(0, data.n * data.dim));
  const y = new Int32Array(new SharedArrayBuffer(data.n * 4));
  y.set(data.y.subarray(0, data.n));
  return { ...data, x, y };
}

function growInWorker(input: TreeWorkerInput): Promise<FlatTree[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./tree-worker.js', import.meta.url), { workerData: input });
    worker.once('message', (m: { trees?: FlatTree[]; error?: string }) => {
      if (m.trees) resolve(m.trees);
      else reject(new Error(m.error ?? 'tree worker failed'));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`tree worker exited with code ${code}`)));
  });
}

export async function trainForestParallel(data: Dataset, params: ForestParams, threads: number): Promise<ForestArtifact> {
  const resolved = resolveForestParams(params, data.dim);
  const workers = Math.max(1, Math.min(threads, resolved.nEstimators));
  if (workers === 1) return assembleForest(trainTrees(data, resolved, 0, resolved.nEstimators), data, resolved);
  const shared = sharedDataset(data);
  const bounds = Array.from({ length: workers + 1 }, (_, w) => Math.round((w * resolved.nEstimators) / workers));
  const parts = await Promise.all(bounds.slice(0, -1).map((from, w) => growInWorker({ data: shared, params: resolved, from, to: bounds[w + 1]! })));
  return assembleForest(parts.flat(), data, resolved);
}
