/**
 * The encoder's worker thread: tokenizes, batches and runs the ONNX graph, and
 * pools hidden states into features. onnxruntime-node runs a session
 * synchronously on the calling thread, so it lives here, off the event loop
 * that serves HTTP.
 */
import { basename, dirname } from 'node:path';
import { workerData } from 'node:worker_threads';
import { AutoTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { DomainError } from '../errors.js';
import { reply, serve } from '../workers/serve.js';
import { BatchQueue } from './batch-queue.js';
import { type FeatureSpec, specDimensions } from './feature-spec.js';
import { hiddenStateName } from './manifest.js';
import { encoderFeeds } from './feeds.js';
import { PACKED_ROW_TOKENS, PACKED_RUN_TOKENS } from './packing.js';
import { featureOf } from './pooling.js';
import type { EncodeArgs, Encoded, EncoderApi, EncoderEvent, WorkerInit } from './encoder-protocol.js';

interface Request {
  specs: FeatureSpec[];
  features: Float32Array[];
  tokenCounts: Int32Array;
  remaining: number;
  done: (r: Encoded) => void;
  fail: (e: Error) => void;
}

interface Sequence {
  request: Request;
  index: number;
  ids: number[];
  length: number;
}

const init = workerData as WorkerInit;
const H = init.manifest.hiddenSize;

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

/** Graphs from importers before version 3 read the mask as 1/0: one sequence a row. */
const rowTokens = init.manifest.packedRows ? PACKED_ROW_TOKENS : 0;
const queue = new BatchQueue<Sequence>({
  maxTokens: rowTokens > 0 ? Math.min(init.maxBatchTokens, PACKED_RUN_TOKENS) : init.maxBatchTokens,
  maxSize: init.maxBatchSize,
  packed: rowTokens > 0,
});
/** Requests still wanted: a cancelled one is removed here, and its sequences are dropped when a batch would take them. */
const live = new Set<Request>();
let running: Promise<void> | undefined;
let scheduled = false;
let stopping = false;

/** Token ids with [CLS]/[SEP]; over-long sequences keep their head and end in [SEP]. */
function tokenize(text: string): { ids: number[]; tooLong: boolean } {
  const ids = tokenizer.encode(text) as number[];
  if (ids.length <= init.manifest.maxTokens) return { ids, tooLong: false };
  const cut = ids.slice(0, init.manifest.maxTokens - 1);
  cut.push(sepId);
  return { ids: cut, tooLong: true };
}

function encode(args: EncodeArgs, signal: AbortSignal): Promise<Encoded> {
  return new Promise((done, fail) => {
    const request: Request = {
      specs: args.specs,
      features: args.specs.map((s) => new Float32Array(args.texts.length * specDimensions(s, H))),
      tokenCounts: new Int32Array(args.texts.length),
      remaining: args.texts.length,
      done,
      fail,
    };
    const sequences: Sequence[] = [];
    for (let i = 0; i < args.texts.length; i++) {
      const text = args.texts[i]!;
      const { ids, tooLong } = tokenize(text);
      if (tooLong && !args.truncate) {
        const full = (tokenizer.encode(text) as number[]).length;
        const message = `input[${i}] has ${full} tokens; the model takes at most ${init.manifest.maxTokens} (send "truncate": true to cut it)`;
        throw new DomainError('input_too_long', message, `input[${i}]`);
      }
      request.tokenCounts[i] = ids.length;
      sequences.push({ request, index: i, ids, length: ids.length });
    }
    live.add(request);
    signal.addEventListener('abort', () => live.delete(request), { once: true });
    for (const s of sequences) queue.push(s, args.lane);
    schedule();
  });
}

function schedule(): void {
  if (running || scheduled || stopping || queue.size === 0) return;
  scheduled = true;
  // setImmediate lets messages that arrived during the last run join the queue first.
  setImmediate(() => {
    scheduled = false;
    running = runBatch().finally(() => {
      running = undefined;
      schedule();
    });
  });
}

async function runBatch(): Promise<void> {
  const batch = queue.next().filter((s) => live.has(s.request));
  if (batch.length === 0) return;
  const { feeds, layout, firsts } = encoderFeeds(
    batch.map((s) => s.ids),
    rowTokens,
  );
  const B = layout.rows;
  const T = layout.width;
  let tokens = 0;
  for (const s of batch) tokens += s.length;
  const layers = new Set<number>();
  for (const s of batch) for (const spec of s.request.specs) for (const l of spec.layers) layers.add(l);
  const started = performance.now();
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await session.run(feeds, [...layers].map(hiddenStateName));
  } catch (err) {
    for (const r of new Set(batch.map((s) => s.request))) {
      live.delete(r);
      r.fail(new DomainError('inference_failed', `inference failed: ${(err as Error).message}`));
    }
    return;
  }
  const inferenceMs = performance.now() - started;
  const states = new Map<number, Float32Array>();
  for (const l of layers) states.set(l, out[hiddenStateName(l)]!.data as Float32Array);
  for (const [b, s] of batch.entries()) {
    const r = s.request;
    r.specs.forEach((spec, k) => {
      const dim = specDimensions(spec, H);
      featureOf(states, firsts[b]!, H, s.length, spec, r.features[k]!, s.index * dim);
    });
    if (--r.remaining === 0) {
      live.delete(r);
      r.done({ features: r.features, tokenCounts: r.tokenCounts });
    }
  }
  served.emit({ type: 'batch', stats: { size: batch.length, paddedTokens: B * T, tokens, inferenceMs, queued: queue.size } });
}

// Warm-up: the first run pays for memory planning and kernel selection; do it before serving.
await session.run(encoderFeeds([tokenize('warm up').ids]).feeds);

const served = serve<EncoderApi, EncoderEvent>(
  {
    encode: async (args, call) => {
      const r = await encode(args, call.signal);
      return reply(r, [...r.features.map((f) => f.buffer as ArrayBuffer), r.tokenCounts.buffer as ArrayBuffer]);
    },
  },
  {
    // The run in progress finishes (a thread stopped inside onnxruntime aborts the process); nothing else starts.
    onStop: async () => {
      stopping = true;
      queue.drain();
      live.clear();
      await running;
    },
  },
);
