/**
 * Training spread over a head pool's worker threads: the kernel matrix comes
 * from a KernelCache (computed once, shared with the workers), and the
 * one-vs-one pairs go out in chunks, largest first, so that a slow pair
 * never leaves the other threads idle. Results are identical to trainSvm's:
 * pairs are independent and seeded by their index.
 */
import { availableParallelism } from 'node:os';
import type { Dataset } from '../types.js';
import { HeadPool, sharedDataset } from '../pool/pool.js';
import { KernelCache } from './kernel-cache.js';
import { pairList } from './model.js';
import { resolveParams, type SvmParams } from './params.js';
import { assembleModel, groupClasses, type SvmTrainResult } from './train.js';

/** Pair chunks per worker: enough for balance, few enough that messages cost nothing. */
const CHUNKS_PER_WORKER = 8;

export interface ParallelOptions {
  /** Worker threads; default: one per core. */
  threads?: number;
}

/** Trains on a pool of its own, closed when done. */
export async function trainSvmParallel(data: Dataset, given: Partial<SvmParams> = {}, opts: ParallelOptions = {}): Promise<SvmTrainResult> {
  const pool = new HeadPool(Math.max(1, opts.threads ?? availableParallelism()));
  try {
    return await trainSvmOnPool(pool, new KernelCache(pool), data, given);
  } finally {
    await pool.close();
  }
}

export async function trainSvmOnPool(pool: HeadPool, kernels: KernelCache, data: Dataset, given: Partial<SvmParams> = {}): Promise<SvmTrainResult> {
  const params = resolveParams(data, given);
  const groups = groupClasses(data.y, data.n, data.classes);
  const shared = sharedDataset(data);
  const kernel = await kernels.kernel(shared, params.kernel);
  // Largest pairs first (solver work grows about quadratically with size).
  const cost = pairList(groups.labels.length).map(([i, j]) => (groups.count[i]! + groups.count[j]!) ** 2);
  const order = cost.map((_, p) => p).sort((a, b) => cost[b]! - cost[a]!);
  const size = Math.max(1, Math.ceil(order.length / (pool.size * CHUNKS_PER_WORKER)));
  const chunks = Array.from({ length: Math.ceil(order.length / size) }, (_, c) => order.slice(c * size, (c + 1) * size));
  const results = await Promise.all(chunks.map((pairs) => pool.run({ kind: 'svm-pairs', data: shared, kernel, groups, params, pairs })));
  return assembleModel(
    data,
    groups,
    params,
    results.flatMap((r) => r.result),
  );
}
