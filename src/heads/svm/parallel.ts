/**
 * Training spread over worker threads. The main thread computes the Gram
 * matrix (onnxruntime, itself multi-threaded) into a SharedArrayBuffer; the
 * workers turn row ranges of it into kernel values, then train one-vs-one
 * pairs handed out largest first, one at a time, so that a slow pair never
 * leaves the other threads idle. Results are identical to trainSvm's: pairs
 * are independent and seeded by their index.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Dataset } from '../types.js';
import { gramMatrix } from '../linalg/gram.js';
import { gramDiagonal } from './kernel.js';
import { pairList } from './model.js';
import { resolveParams, type ResolvedSvmParams, type SvmParams } from './params.js';
import { assembleModel, groupClasses, type ClassGroups, type PairResult, type SvmTrainResult } from './train.js';

const MB = 1024 * 1024;

export interface PairWorkerInit {
  x: Float32Array;
  n: number;
  dim: number;
  groups: ClassGroups;
  params: ResolvedSvmParams;
  /** The n×n Gram, then kernel, matrix; null when it exceeds kernelMatrixMb. */
  matrix: Float32Array | null;
}

export type ToPairWorker = { type: 'convert'; sq: Float64Array; from: number; to: number } | { type: 'pairs'; pairs: number[] };
export type FromPairWorker = { type: 'converted' } | { type: 'results'; results: PairResult[] } | { type: 'error'; message: string };

export interface ParallelOptions {
  /** Worker threads; default: one per core. */
  threads?: number;
}

export async function trainSvmParallel(
  data: Dataset,
  given: Partial<SvmParams> = {},
  opts: ParallelOptions = {},
): Promise<SvmTrainResult> {
  const params = resolveParams(data, given);
  const groups = groupClasses(data.y, data.n, data.classes);
  const pairs = pairList(groups.labels.length);
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), pairs.length));
  const x = shared(data.x.subarray(0, data.n * data.dim));
  const matrix =
    data.n * data.n * 4 <= params.kernelMatrixMb * MB
      ? gramMatrix(x, data.n, data.dim, { out: new Float32Array(new SharedArrayBuffer(data.n * data.n * 4)) })
      : null;
  const init: PairWorkerInit = { x, n: data.n, dim: data.dim, groups, params, matrix };
  const workers = Array.from({ length: threads }, () => new PairWorker(init));
  try {
    if (matrix) {
      const sq = gramDiagonal(matrix, data.n);
      await Promise.all(
        workers.map((w, t) =>
          w.request({ type: 'convert', sq, from: Math.floor((t * data.n) / threads), to: Math.floor(((t + 1) * data.n) / threads) }),
        ),
      );
    }
    // Largest pairs first (solver work grows about quadratically with size).
    const cost = pairs.map(([i, j]) => (groups.count[i]! + groups.count[j]!) ** 2);
    const queue = pairs.map((_, p) => p).sort((a, b) => cost[b]! - cost[a]!);
    const results: PairResult[] = [];
    await Promise.all(
      workers.map(async (w) => {
        for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
          const reply = await w.request({ type: 'pairs', pairs: [p] });
          if (reply.type === 'results') results.push(...reply.results);
        }
      }),
    );
    return assembleModel(data, groups, params, results);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

function shared(x: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(x.byteLength));
  out.set(x);
  return out;
}

/** One worker, one request at a time. */
class PairWorker {
  private readonly worker: Worker;
  private pending: { resolve: (m: FromPairWorker) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(init: PairWorkerInit) {
    this.worker = new Worker(new URL('./pair-worker.js', import.meta.url), { workerData: init });
    this.worker.on('message', (m: FromPairWorker) => {
      const p = this.pending;
      this.pending = null;
      if (m.type === 'error') p?.reject(new Error(`SVM worker: ${m.message}`));
      else p?.resolve(m);
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`SVM worker exited with code ${code}`)));
  }

  request(m: ToPairWorker): Promise<FromPairWorker> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending = { resolve, reject };
      this.worker.postMessage(m);
    });
  }

  close(): Promise<number> {
    this.worker.removeAllListeners('exit');
    return this.worker.terminate();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }
}
