/**
 * The encoder's worker thread: tokenizes, batches and runs the ONNX graph, and
 * pools hidden states into features. onnxruntime-node runs a session
 * synchronously on the calling thread, so it lives here, off the event loop
 * that serves HTTP.
 *
 * A fine-tuned version's spec (`tuned`) needs the shared graph up to its first
 * tuned layer, then the version's own stack (./loaded-stacks.ts): a batch runs
 * the shared graph once for every spec of every text in it, then each stack
 * its texts need, on those texts' hidden states only.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { workerData } from 'node:worker_threads';
import { AutoTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { DomainError } from '../errors.js';
import { reply, serve } from '../workers/serve.js';
import { BatchQueue } from './batch-queue.js';
import { type FeatureSpec, specDimensions } from './feature-spec.js';
import { checkBertConfig } from './import/bert-graph.js';
import { hiddenStateName } from './manifest.js';
import { encoderFeeds } from './feeds.js';
import { type LoadedStack, LoadedStacks } from './loaded-stacks.js';
import { layoutRows, PACKED_ROW_TOKENS, PACKED_RUN_TOKENS } from './packing.js';
import { featureOf } from './pooling.js';
import { STACK_INPUT, STACK_MASK, STACK_OUTPUT } from './tuned-stack-graph.js';
import {
  DEFAULT_STACK_BYTES,
  type EncodeArgs,
  type Encoded,
  type EncoderApi,
  type EncoderEvent,
  type MissingStacks,
  type WorkerInit,
} from './encoder-protocol.js';

interface Request {
  specs: FeatureSpec[];
  /** Per spec, its fine-tuned version's stack (held by this request until it ends), or undefined. */
  stacks: Array<LoadedStack | undefined>;
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
const sessionOptions: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: init.threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: init.spin ? '1' : '0' } } },
};
const session = await ort.InferenceSession.create(`${init.modelDir}/onnx/model.onnx`, sessionOptions);
const stacks = new LoadedStacks({
  manifest: init.manifest,
  dims: () => checkBertConfig(JSON.parse(readFileSync(join(init.modelDir, 'config.json'), 'utf8')) as Record<string, unknown>),
  maxBytes: init.maxStackBytes ?? DEFAULT_STACK_BYTES,
  session: sessionOptions,
  onChange: (held) => served.emit({ type: 'stacks', held }),
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

/** Which of the specs' fine-tuned versions the worker neither holds nor was sent. */
function missingStacks(args: EncodeArgs): string[] {
  const missing = new Set<string>();
  for (const spec of args.specs) if (spec.tuned && !stacks.has(spec.tuned.version) && !args.stacks?.[spec.tuned.version]) missing.add(spec.tuned.version);
  return [...missing];
}

/** Each spec's stack, a use of it counted for the request; a tuned spec that does not fit its stack fails the call. */
async function stacksFor(args: EncodeArgs): Promise<Array<LoadedStack | undefined>> {
  const taken = args.specs.map((spec) => (spec.tuned ? stacks.acquire(spec.tuned.version, args.stacks?.[spec.tuned.version]) : undefined));
  const settled = await Promise.allSettled(taken);
  const got = settled.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  const failed = settled.find((r) => r.status === 'rejected');
  const misfit = args.specs.findIndex((spec, k) => spec.tuned && got[k] && !fits(spec, got[k]));
  if (failed || misfit >= 0) {
    for (const s of got) if (s) stacks.release(s);
    if (failed) throw (failed as PromiseRejectedResult).reason;
    throw new DomainError('invalid_feature_spec', `feature spec ${misfit} does not match its fine-tuned version's layers`);
  }
  return got;
}

/** A tuned spec pools the stack's output: the hidden state after its last layer, from the layer it starts at. */
const fits = (spec: FeatureSpec, stack: LoadedStack) => spec.tuned?.first === stack.first && spec.layers.length === 1 && spec.layers[0] === stack.last + 1;

async function encode(args: EncodeArgs, signal: AbortSignal): Promise<Encoded | MissingStacks> {
  const missing = missingStacks(args);
  if (missing.length) return { missing };
  const sequences = tokenizeAll(args);
  const requestStacks = await stacksFor(args);
  const releaseAll = () => {
    for (const s of requestStacks) if (s) stacks.release(s);
  };
  if (signal.aborted) {
    releaseAll();
    throw signal.reason;
  }
  return new Promise((resolve, reject) => {
    let ended = false;
    const end = () => {
      if (ended) return false;
      ended = true;
      live.delete(request);
      releaseAll();
      return true;
    };
    const request: Request = {
      specs: args.specs,
      stacks: requestStacks,
      features: args.specs.map((s) => new Float32Array(args.texts.length * specDimensions(s, H))),
      tokenCounts: new Int32Array(args.texts.length),
      remaining: args.texts.length,
      done: (r) => end() && resolve(r),
      fail: (e) => end() && reject(e),
    };
    for (const [i, s] of sequences.entries()) {
      request.tokenCounts[i] = s.length;
      s.request = request;
    }
    live.add(request);
    signal.addEventListener('abort', () => end(), { once: true });
    for (const s of sequences) queue.push(s, args.lane);
    schedule();
  });
}

/** The texts' sequences (their request set by the caller); an over-long text fails the call unless it may be cut. */
function tokenizeAll(args: EncodeArgs): Sequence[] {
  return args.texts.map((text, i) => {
    const { ids, tooLong } = tokenize(text);
    if (tooLong && !args.truncate) {
      const full = (tokenizer.encode(text) as number[]).length;
      const message = `input[${i}] has ${full} tokens; the model takes at most ${init.manifest.maxTokens} (send "truncate": true to cut it)`;
      throw new DomainError('input_too_long', message, `input[${i}]`);
    }
    return { request: undefined as unknown as Request, index: i, ids, length: ids.length };
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
  // Hidden states the specs pool, and each stack's first layer's; each stack with the batch texts that need it.
  const layers = new Set<number>();
  const tuned = new Map<LoadedStack, number[]>();
  for (const [b, s] of batch.entries()) {
    s.request.specs.forEach((spec, k) => {
      const stack = s.request.stacks[k];
      if (!stack) for (const l of spec.layers) layers.add(l);
      else {
        layers.add(stack.first);
        const texts = tuned.get(stack) ?? [];
        if (texts.at(-1) !== b) texts.push(b);
        tuned.set(stack, texts);
      }
    });
  }
  // The run holds its stacks: a request cancelled meanwhile must not release one under it.
  for (const stack of tuned.keys()) stacks.retain(stack);
  const started = performance.now();
  const states = new Map<number, Float32Array>();
  const stackStates = new Map<LoadedStack, { states: Map<number, Float32Array>; firsts: Map<number, number> }>();
  try {
    const out = await session.run(feeds, [...layers].map(hiddenStateName));
    for (const l of layers) states.set(l, out[hiddenStateName(l)]!.data as Float32Array);
    for (const [stack, texts] of tuned) {
      const input = states.get(stack.first)!;
      const run = texts.length === batch.length ? { state: input, mask: feeds.attention_mask, firsts, rows: B, width: T } : gather(batch, texts, firsts, input);
      const dims = [run.rows, run.width, H];
      const result = await stack.session.run({ [STACK_INPUT]: new ort.Tensor('float32', run.state, dims), [STACK_MASK]: run.mask }, [STACK_OUTPUT]);
      const at = new Map(texts.map((b, j) => [b, run.firsts[j]!]));
      stackStates.set(stack, { states: new Map([[stack.last + 1, result[STACK_OUTPUT]!.data as Float32Array]]), firsts: at });
    }
  } catch (err) {
    for (const r of new Set(batch.map((s) => s.request))) r.fail(new DomainError('inference_failed', `inference failed: ${(err as Error).message}`));
    return;
  } finally {
    for (const stack of tuned.keys()) stacks.release(stack);
  }
  const inferenceMs = performance.now() - started;
  for (const [b, s] of batch.entries()) {
    const r = s.request;
    r.specs.forEach((spec, k) => {
      const dim = specDimensions(spec, H);
      const stack = r.stacks[k];
      const own = stack && stackStates.get(stack)!;
      featureOf(own ? own.states : states, own ? own.firsts.get(b)! : firsts[b]!, H, s.length, spec, r.features[k]!, s.index * dim);
    });
    if (--r.remaining === 0) r.done({ features: r.features, tokenCounts: r.tokenCounts });
  }
  const stats = { size: batch.length, paddedTokens: B * T, tokens, inferenceMs, queued: queue.size, stacks: tuned.size };
  served.emit({ type: 'batch', stats });
}

/**
 * The hidden states of some of a batch's texts (`texts`: their places in the batch), laid out again as a run
 * of their own, so that a stack runs on the texts that need it only.
 */
function gather(batch: readonly Sequence[], texts: readonly number[], firsts: readonly number[], state: Float32Array) {
  const lengths = texts.map((b) => batch[b]!.length);
  const layout = layoutRows(lengths, rowTokens);
  const out = new Float32Array(layout.rows * layout.width * H);
  const mask = new BigInt64Array(layout.rows * layout.width);
  const at = texts.map((b, j) => {
    const { row, start, segment } = layout.places[j]!;
    const first = row * layout.width + start;
    out.set(state.subarray(firsts[b]! * H, (firsts[b]! + lengths[j]!) * H), first * H);
    mask.fill(BigInt(segment), first, first + lengths[j]!);
    return first;
  });
  return { state: out, mask: new ort.Tensor('int64', mask, [layout.rows, layout.width]), firsts: at, rows: layout.rows, width: layout.width };
}

// Warm-up: the first run pays for memory planning and kernel selection; do it before serving.
await session.run(encoderFeeds([tokenize('warm up').ids]).feeds);

const served = serve<EncoderApi, EncoderEvent>(
  {
    encode: async (args, call) => {
      const r = await encode(args, call.signal);
      if ('missing' in r) return r;
      return reply(r, [...r.features.map((f) => f.buffer as ArrayBuffer), r.tokenCounts.buffer as ArrayBuffer]);
    },
    forgetStacks: ({ versions }) => stacks.forget(versions),
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
