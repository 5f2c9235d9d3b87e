/**
 * The encoder's worker thread: tokenizes, batches and runs the ONNX graph, and
 * pools hidden states into features. onnxruntime-node runs a session
 * synchronously on the calling thread, so it lives here, off the event loop
 * that serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { dirname, basename } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { BatchQueue } from './batch-queue.js';
import { specDimensions, type FeatureSpec } from './feature-spec.js';
import { featureOf } from './pooling.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { hiddenStateName } from './import/bert-graph.js';

interface Request {
  id: number;
  specs: FeatureSpec[];
  features: Float32Array[];
  tokenCounts: Int32Array;
  remaining: number;
}

interface Sequence {
  request: Request;
  index: number;
  ids: number[];
  length: number;
}

const init = workerData as WorkerInit;
const port = parentPort!;
const H = init.manifest.hiddenSize;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

env.allowRemoteModels = false;
env.localModelPath = `${dirname(init.modelDir)}/`;
const tokenizer = await AutoTokenizer.from_pretrained(basename(init.modelDir), { local_files_only: true });
const sepId = tokenizer.sep_token_id as number;
const session = await ort.InferenceSession.create(`${init.modelDir}/onnx/model.onnx`, {
  intraOpNumThreads: init.threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: init.spin ? '1' : '0' } } },
});

const queue = new BatchQueue<Sequence>({ maxTokens: init.maxBatchTokens, maxSize: init.maxBatchSize });
const requests = new Map<number, Request>();
let running = false;
let scheduled = false;
let shuttingDown = false;

/** Token ids with [CLS]/[SEP]; over-long sequences keep their head and end in [SEP]. */
function tokenize(text: string): { ids: number[]; tooLong: boolean } {
  const ids = tokenizer.encode(text) as number[];
  if (ids.length <= init.manifest.maxTokens) return { ids, tooLong: false };
  const cut = ids.slice(0, init.manifest.maxTokens - 1);
  cut.push(sepId);
  return { ids: cut, tooLong: true };
}

function accept(msg: Extract<ToWorker, { type: 'encode' }>): void {
  const request: Request = {
    id: msg.id,
    specs: msg.specs,
    features: msg.specs.map((s) => new Float32Array(msg.texts.length * specDimensions(s, H))),
    tokenCounts: new Int32Array(msg.texts.length),
    remaining: msg.texts.length,
  };
  const sequences: Sequence[] = [];
  for (let i = 0; i < msg.texts.length; i++) {
    const { ids, tooLong } = tokenize(msg.texts[i]!);
    if (tooLong && !msg.truncate) {
      const full = (tokenizer.encode(msg.texts[i]!) as number[]).length;
      post({
        type: 'error',
        id: msg.id,
        code: 'input_too_long',
        index: i,
        message: `input[${i}] has ${full} tokens; the model takes at most ${init.manifest.maxTokens} (send "truncate": true to cut it)`,
      });
      return;
    }
    request.tokenCounts[i] = ids.length;
    sequences.push({ request, index: i, ids, length: ids.length });
  }
  requests.set(msg.id, request);
  for (const s of sequences) queue.push(s, msg.lane);
  schedule();
}

function schedule(): void {
  if (running || scheduled || queue.size === 0) return;
  scheduled = true;
  // setImmediate lets messages that arrived during the last run join the queue first.
  setImmediate(() => {
    scheduled = false;
    void runBatch();
  });
}

async function runBatch(): Promise<void> {
  // Sequences of cancelled requests are dropped here rather than searched for on cancel.
  const batch = queue.next().filter((s) => requests.get(s.request.id) === s.request);
  if (batch.length === 0) return schedule();
  running = true;
  const B = batch.length;
  const T = batch[batch.length - 1]!.length; // next() returns sequences shortest first
  const ids = new BigInt64Array(B * T);
  const mask = new BigInt64Array(B * T);
  let tokens = 0;
  batch.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) {
      ids[b * T + t] = BigInt(s.ids[t]!);
      mask[b * T + t] = 1n;
    }
    tokens += s.length;
  });
  const layers = new Set<number>();
  for (const s of batch) for (const spec of s.request.specs) for (const l of spec.layers) layers.add(l);
  const started = performance.now();
  try {
    const dims = [B, T];
    const out = await session.run(
      {
        input_ids: new ort.Tensor('int64', ids, dims),
        attention_mask: new ort.Tensor('int64', mask, dims),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), dims),
      },
      [...layers].map(hiddenStateName),
    );
    const inferenceMs = performance.now() - started;
    const states = new Map<number, Float32Array>();
    for (const l of layers) states.set(l, out[hiddenStateName(l)]!.data as Float32Array);
    batch.forEach((s, b) => {
      const r = s.request;
      r.specs.forEach((spec, k) => {
        const dim = specDimensions(spec, H);
        featureOf(states, b, T, H, s.length, spec, r.features[k]!, s.index * dim);
      });
      if (--r.remaining === 0) {
        requests.delete(r.id);
        post({ type: 'result', id: r.id, features: r.features, tokenCounts: r.tokenCounts }, [
          ...r.features.map((f) => f.buffer as ArrayBuffer),
          r.tokenCounts.buffer as ArrayBuffer,
        ]);
      }
    });
    post({ type: 'batch', stats: { size: B, paddedTokens: B * T, tokens, inferenceMs, queued: queue.size } });
  } catch (err) {
    for (const r of new Set(batch.map((s) => s.request))) {
      requests.delete(r.id);
      post({ type: 'error', id: r.id, code: 'inference_failed', message: `inference failed: ${(err as Error).message}` });
    }
  } finally {
    running = false;
    if (shuttingDown) process.exit(0);
    schedule();
  }
}

port.on('message', (msg: ToWorker) => {
  try {
    if (msg.type === 'encode') accept(msg);
    else if (msg.type === 'cancel') requests.delete(msg.id);
    else if (msg.type === 'shutdown') {
      shuttingDown = true;
      queue.drain();
      requests.clear();
      if (!running) process.exit(0);
    }
  } catch (err) {
    if (msg.type === 'encode') post({ type: 'error', id: msg.id, code: 'inference_failed', message: (err as Error).message });
  }
});

// Warm-up: the first run pays for memory planning and kernel selection; do it before reporting ready.
const warmStart = performance.now();
const warmIds = tokenize('warm up').ids;
const warmDims = [1, warmIds.length];
await session.run({
  input_ids: new ort.Tensor('int64', BigInt64Array.from(warmIds.map(BigInt)), warmDims),
  attention_mask: new ort.Tensor('int64', new BigInt64Array(warmIds.length).fill(1n), warmDims),
  token_type_ids: new ort.Tensor('int64', new BigInt64Array(warmIds.length), warmDims),
});
post({ type: 'ready', warmupMs: performance.now() - warmStart });
