/** Worker entry: grows one range of a forest's trees. */
import { parentPort, workerData } from 'node:worker_threads';
import type { TreeWorkerInput } from './parallel.js';
import { trainTrees } from './train.js';

const { data, params, from, to } = workerData as TreeWorkerInput;
try {
  parentPort!.postMessage({ trees: trainTrees(data, params, from, to) });
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message });
}
