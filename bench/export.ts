/**
 * npm run bench:export
 *
 * The ONNX export of a version, on TREC (../shared/datasets): one version per
 * head type (default parameters, the default feature spec: last layer, mean,
 * normalised), trained through the service in-process (SQLite in a temporary
 * folder, its HTTP API on a local port), exported with GET …/export, and run
 * on the test set:
 *
 *   agreement   the exported model's label against the predict route's, text
 *               by text, and the largest |Δ probability| (the route rounds to 1e-6)
 *   export      file size, the GET's wall time, the process's peak RSS growth while it is built
 *   throughput  text → probabilities, tokens/s (attention-mask tokens), median of 5 runs
 *               over the test set twice:
 *                 export   onnxruntime-node on the file with the service encoder's session
 *                          options (threads, no spinning), length-sorted batches of the
 *                          service's batch bound (64), tokenizing included
 *                 service  the predict route, requests of 32 texts in file order, 4 in
 *                          flight, feature cache off (every text goes through the encoder)
 *
 * One more row prices the portable attention: the SVM's export with the
 * imported graph's fused com.microsoft.Attention (onnxruntime only), built
 * directly (the API serves only the portable file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { DEFAULT_MODEL, loadConfig } from '../src/config.js';
import type { LayerCombine, Pooling } from '../src/encoder/feature-spec.js';
import { encoderFeeds } from '../src/encoder/feeds.js';
import { ModelRegistry } from '../src/encoder/registry.js';
import { buildOnnxExport } from '../src/export/onnx-export.js';
import { createLogger } from '../src/log.js';
import { assemble } from '../src/service.js';
import { clientLimits } from '../src/store/open.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { loadJsonl } from './lib/datasets.js';
import { fmt, median, printTable } from './lib/stats.js';

const THREADS = availableParallelism();
const REPS = 5;
/** Texts a predict request carries, and requests in flight. */
const REQUEST = 32;
const IN_FLIGHT = 4;
/** Each run goes over the test set this many times (500 TREC questions are ~1 s of work). */
const PASSES = 2;
const HEADS = ['svm', 'random_forest', 'logistic_regression', 'mlp'];

const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// --- the service, in-process, on a local port ---
const dataDir = mkdtempSync(join(tmpdir(), 'transferd-bench-export-'));
const config = loadConfig({ TRANSFERD_FEATURE_CACHE: '0', TRANSFERD_ORT_THREADS: String(THREADS), TRANSFERD_MAX_QUEUE_WAIT_MS: '0' });
const store = new SqliteStore({ path: join(dataDir, 'transferd.db'), maxLabels: config.TRANSFERD_MAX_LABELS, limits: clientLimits(config) });
await store.migrate();
const models = await ModelRegistry.load({
  modelsDir: config.TRANSFERD_MODELS_DIR,
  models: [DEFAULT_MODEL],
  threads: THREADS,
  maxBatchTokens: config.TRANSFERD_MAX_BATCH_TOKENS,
  maxBatchSize: config.TRANSFERD_MAX_BATCH_SIZE,
  maxQueuedTexts: config.TRANSFERD_MAX_QUEUED_TEXTS,
});
const parts = assemble({ config, log: createLogger('bench', true), models, store });
parts.runner.start();
const server = createServer(parts.app.app);
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function call(method: string, path: string, body?: unknown, type = 'application/json'): Promise<Response> {
  const res = await fetch(base + path, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': type } }),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}
const json = async <T>(method: string, path: string, body?: unknown, type?: string) => (await (await call(method, path, body, type)).json()) as T;

// --- data and tokens ---
const train = loadJsonl('trec.train.jsonl');
const test = loadJsonl('trec.test.jsonl').map((e) => e.text);
env.allowRemoteModels = false;
env.localModelPath = `${resolve(config.TRANSFERD_MODELS_DIR)}/`;
const tokenizer = await AutoTokenizer.from_pretrained(DEFAULT_MODEL, { local_files_only: true });
const { maxTokens, layers: lastLayer } = models.get(DEFAULT_MODEL)!.manifest;
const sep = tokenizer.sep_token_id as number;
/** The service's tokens: [CLS] … [SEP], an over-long text cut to max_tokens − 1 ids and [SEP]. */
const tokensOf = (text: string) => {
  const ids = tokenizer.encode(text) as number[];
  return ids.length <= maxTokens ? ids : [...ids.slice(0, maxTokens - 1), sep];
};
const testTokens = test.reduce((n, t) => n + tokensOf(t).length, 0);
/** The export runs batches as large as the service's encoder does. */
const BATCH = config.TRANSFERD_MAX_BATCH_SIZE;

/** The exported model on every test text: probabilities in text order, and the wall time, tokenizing included. */
async function runExport(session: ort.InferenceSession, classes: number): Promise<{ p: Float32Array; label: Int32Array; s: number }> {
  const started = performance.now();
  const seqs = test.map((t, i) => ({ i, ids: tokensOf(t) })).sort((a, b) => a.ids.length - b.ids.length);
  const p = new Float32Array(test.length * classes);
  const label = new Int32Array(test.length);
  for (let at = 0; at < seqs.length; at += BATCH) {
    const batch = seqs.slice(at, at + BATCH);
    const { input_ids, attention_mask } = encoderFeeds(batch.map((s) => s.ids)).feeds;
    const out = await session.run({ input_ids, attention_mask });
    const probs = out.probabilities!.data as Float32Array;
    const labels = out.label!.data as BigInt64Array;
    for (const [b, s] of batch.entries()) {
      p.set(probs.subarray(b * classes, (b + 1) * classes), s.i * classes);
      label[s.i] = Number(labels[b]);
    }
  }
  return { p, label, s: (performance.now() - started) / 1000 };
}

interface JobState {
  state: string;
  version: number | null;
  error: unknown;
}

interface VersionJson {
  labels: string[];
  feature_spec: { model: string; layers: number[]; layer_combine: LayerCombine; pooling: Pooling; normalize: boolean };
}

interface Served {
  data: Array<{ label: string; probabilities: Record<string, number> }>;
}

/** The predict route on every test text: its answers in text order, and the wall time. */
async function runService(task: string, version: number): Promise<{ data: Served['data']; s: number }> {
  const started = performance.now();
  const chunks = Array.from({ length: Math.ceil(test.length / REQUEST) }, (_, c) => test.slice(c * REQUEST, (c + 1) * REQUEST));
  const answers: Served['data'][] = new Array(chunks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let c = next++; c < chunks.length; c = next++) {
        answers[c] = (await json<Served>('POST', `/v1/tasks/${task}/predict`, { input: chunks[c], version })).data;
      }
    }),
  );
  return { data: answers.flat(), s: (performance.now() - started) / 1000 };
}

/** Sampled resident memory while `work` runs: its peak above the start, in MB. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; mb: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, mb: (peak - before) / 1024 ** 2 };
  } finally {
    clearInterval(timer);
  }
}

/** Label agreement and the largest |Δp| of the export's answers against the route's. */
function agreement(labels: string[], exported: { p: Float32Array; label: Int32Array }, served: Served['data']) {
  let same = 0;
  let worst = 0;
  served.forEach((answer, i) => {
    if (labels[exported.label[i]!] === answer.label) same++;
    labels.forEach((l, c) => {
      worst = Math.max(worst, Math.abs(exported.p[i * labels.length + c]! - answer.probabilities[l]!));
    });
  });
  return { same, worst };
}

async function measure(name: string, file: Uint8Array, labels: string[], task: string, version: number, build: { s: number; rssMb: number }) {
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  await runExport(session, labels.length); // warm-up: memory planning, kernel choice
  const exportRuns: Awaited<ReturnType<typeof runExport>>[] = [];
  const serviceRuns: Awaited<ReturnType<typeof runService>>[] = [];
  const timed = async <T extends { s: number }>(run: () => Promise<T>): Promise<T> => {
    const first = await run();
    let s = first.s;
    for (let p = 1; p < PASSES; p++) s += (await run()).s;
    return { ...first, s };
  };
  for (let r = 0; r < REPS; r++) {
    exportRuns.push(await timed(() => runExport(session, labels.length)));
    serviceRuns.push(await timed(() => runService(task, version)));
  }
  await session.release();
  const { same, worst } = agreement(labels, exportRuns[0]!, serviceRuns[0]!.data);
  const exportTps = median(exportRuns.map((r) => (PASSES * testTokens) / r.s));
  const serviceTps = median(serviceRuns.map((r) => (PASSES * testTokens) / r.s));
  log(`${name}: ${same}/${test.length} labels agree, max |Δp| ${worst.toExponential(1)}, ${fmt(exportTps, 0)} vs ${fmt(serviceTps, 0)} tokens/s`);
  return [
    name,
    test.length,
    `${same} / ${test.length}`,
    worst.toExponential(1),
    fmt(file.byteLength / 1024 ** 2),
    fmt(build.s, 2),
    build.rssMb ? fmt(build.rssMb, 0) : '-',
    fmt(exportTps, 0),
    fmt(serviceTps, 0),
    `${fmt(exportTps / serviceTps, 2)}`,
  ];
}

const rows: Array<Array<string | number>> = [];
const started = performance.now();
try {
  for (const head of HEADS) {
    const task = (await json<{ id: string }>('POST', '/v1/tasks', { name: `trec-${head}` })).id;
    await call('POST', `/v1/tasks/${task}/examples`, train.map((e) => JSON.stringify(e)).join('\n'), 'application/x-ndjson');
    log(`${head}: training on ${train.length} examples (default parameters, 5-fold CV)`);
    const job = await json<{ id: string }>('POST', `/v1/tasks/${task}/jobs`, { head });
    let state: JobState;
    do {
      await new Promise((ok) => setTimeout(ok, 500));
      state = await json<JobState>('GET', `/v1/tasks/${task}/jobs/${job.id}`);
    } while (!['succeeded', 'failed', 'cancelled'].includes(state.state));
    if (state.state !== 'succeeded') throw new Error(`${head}: job ${state.state}: ${JSON.stringify(state.error)}`);
    const version = state.version!;
    const { labels, feature_spec: fs } = await json<VersionJson>('GET', `/v1/tasks/${task}/versions/${version}`);

    log(`${head}: exporting version ${version}`);
    const exportPath = `/v1/tasks/${task}/versions/${version}/export?format=onnx`;
    // Timed and measured with the body read and dropped, so the memory is the service's, not this client's copy.
    const t0 = performance.now();
    const { mb } = await peakRss(async () => {
      for await (const _chunk of (await call('GET', exportPath)).body!) {
        // dropped
      }
    });
    const buildS = (performance.now() - t0) / 1000;
    const file = new Uint8Array(await (await call('GET', exportPath)).arrayBuffer());
    rows.push(await measure(head, file, labels, task, version, { s: buildS, rssMb: mb }));

    if (head === 'svm') {
      // The same version with the fused attention the service runs: what portability costs.
      const artifact = await json('GET', `/v1/tasks/${task}/versions/${version}/artifact`);
      const encoder = models.get(DEFAULT_MODEL)!;
      const f0 = performance.now();
      const fused = await buildOnnxExport({
        modelDir: encoder.modelDir,
        manifest: encoder.manifest,
        spec: { model: fs.model, layers: fs.layers, layerCombine: fs.layer_combine, pooling: fs.pooling, normalize: fs.normalize },
        labels,
        headType: head,
        artifact,
        task,
        version,
        attention: 'as-imported',
      });
      rows.push(await measure('svm, fused attention (onnxruntime only)', fused, labels, task, version, { s: (performance.now() - f0) / 1000, rssMb: 0 }));
    }
  }
} finally {
  server.close();
  parts.close();
  await parts.runner.stop();
  parts.predictions.close();
  await parts.pool.close();
  await models.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
}

console.log(
  `bench:export — \`npm run bench:export\`, ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} CPUs; TREC ${train.length} train / ${test.length} test texts (${testTokens} tokens); default heads, feature spec L${lastLayer} mean normalised; total ${fmt((performance.now() - started) / 60000)} min`,
);
console.log(
  `tokens/s: text → probabilities, median of ${REPS} runs over the test set ${PASSES}×; export = onnxruntime-node on the file (${THREADS} threads, no spinning, length-sorted batches of ${BATCH}, tokenizing included); service = POST …/predict (${REQUEST} texts a request, ${IN_FLIGHT} in flight, feature cache off). build s = the GET's wall time, body read and dropped; RSS peak = the process's growth meanwhile (the service, its export worker thread included).`,
);
printTable(
  ['head', 'test texts', 'labels agree', 'max |Δp|', 'export MB', 'build s', 'RSS peak +MB', 'export tokens/s', 'service tokens/s', 'export / service'],
  rows,
);
