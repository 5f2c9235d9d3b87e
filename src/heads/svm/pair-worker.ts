/**
 * Worker thread of trainSvmParallel (./parallel.ts). It sees the features
 * and the kernel matrix through SharedArrayBuffers, converts its share of
 * the Gram rows into kernel values, then trains the pairs it is sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FeatureKernel, MatrixKernel, gramRowsToKernel, type KernelSource } from './kernel.js';
import { trainPairs, type PairContext } from './train.js';
import type { FromPairWorker, PairWorkerInit, ToPairWorker } from './parallel.js';

const init = workerData as PairWorkerInit;
const port = parentPort!;
const kernel: KernelSource = init.matrix
  ? new MatrixKernel(init.matrix, init.n)
  : new FeatureKernel(init.x, init.n, init.dim, init.params.kernel);
const ctx: PairContext = { groups: init.groups, params: init.params, kernel };

const post = (m: FromPairWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

port.on('message', (msg: ToPairWorker) => {
  try {
    if (msg.type === 'convert') {
      gramRowsToKernel(init.matrix!, init.n, msg.sq, init.params.kernel, msg.from, msg.to);
      post({ type: 'converted' });
    } else {
      const results = trainPairs(ctx, msg.pairs);
      post({ type: 'results', results }, results.map((r) => r.coef.buffer as ArrayBuffer));
    }
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
