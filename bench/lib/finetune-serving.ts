/**
 * npm run bench:finetune -- --serving [--texts N] [--rounds N] [--layers K]
 *
 * Serving a fine-tuned version (issue 19's goal: at least half the frozen path's throughput): the service as
 * `npm start` runs it (a child process, SQLite, keys off, onnxruntime on every core), a TREC task with two
 * versions on the same 500 training questions: an SVM on frozen features (a job through the API) and the
 * top K layers (default 2) fine-tuned for one epoch (fineTune in this process, written into the store
 * before the service starts, as a job's end would write it). Then, on the same fresh TREC texts for both
 * versions (features are cached per version, so every text runs the encoder for each), and other fresh
 * texts for both versions in one call:
 *   texts/s   N texts in requests of 32, 4 at a time, through POST …/predict pinned to each version, and
 *             through one POST /v1/predict over both versions (two tasks: the shared pass runs once a text);
 *   one text  N/10 single-text requests one after another: p50 and p95 latency.
 * Rounds alternate the paths (frozen, fine-tuned, both) so that drift on a shared machine falls on each alike.
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL } from '../../src/config.js';
import { resolveSpec } from '../../src/encoder/feature-spec.js';
import { readManifest } from '../../src/encoder/manifest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { DEFAULT_CLIENT } from '../../src/store/types.js';
import { fineTune, resolveRecipe } from '../../src/training/fine-tune/index.js';
import { fineTunedParts } from '../../src/training/fine-tuned-version.js';
import { startServiceProcess, waitFor } from '../../test/helpers/process.js';
import { loadJsonl, shuffled } from './datasets.js';
import { fmt, percentile, printTable } from './stats.js';

/** Issue 19's goal: the fine-tuned path's predict texts/s at least this share of the frozen SVM path's. */
const THROUGHPUT_GOAL = 0.5;
const TRAIN_TEXTS = 500;
const REQUEST_TEXTS = 32;
const CONCURRENCY = 4;

const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

interface Path {
  name: string;
  /** Paths of one group get the same texts; the groups, texts of their own. */
  group: number;
  /** Sends `texts` as one predict request; resolves when it is answered 200. */
  send(texts: string[]): Promise<void>;
}

export async function servingBench(options: { texts: number; rounds: number; layers: number | 'all' }): Promise<void> {
  const modelDir = join('models', DEFAULT_MODEL);
  const manifest = readManifest(modelDir)!;
  const layers = options.layers === 'all' ? manifest.layers : options.layers;
  const all = shuffled(loadJsonl('trec.train.jsonl'), 19);
  const train = all.slice(0, TRAIN_TEXTS);
  const labels = [...new Set(train.map((e) => e.label))].sort();
  const fresh = all.slice(TRAIN_TEXTS).map((e) => e.text);
  const single = Math.max(10, Math.floor(options.texts / 10));
  const perGroup = options.texts + single + REQUEST_TEXTS;
  const perRound = 2 * perGroup;
  if (fresh.length < options.rounds * perRound) throw new Error(`--texts × --rounds needs ${options.rounds * perRound} fresh texts; TREC has ${fresh.length}`);

  log(`fine-tuning the top ${layers} layers on ${TRAIN_TEXTS} TREC questions (one epoch)`);
  const run = await fineTune({
    modelDir,
    texts: train.map((e) => e.text),
    labels: { classes: labels.length, y: Int32Array.from(train, (e) => labels.indexOf(e.label)) },
    recipe: resolveRecipe({ layers, epochs: 1, threads: availableParallelism() }, manifest),
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-finetune-serving-'));
  const store = new SqliteStore({ path: join(dataDir, 'transferd.db'), maxLabels: 10_000 });
  await store.migrate();
  const task = await store.createTask({
    clientId: DEFAULT_CLIENT,
    name: 'questions',
    description: null,
    spec: resolveSpec({ model: DEFAULT_MODEL }, manifest.layers),
  });
  const job = await store.createJob({ clientId: DEFAULT_CLIENT, taskId: task.id, request: {}, maxAttempts: 1 });
  await store.claimJob('bench', 60_000);
  const tunedVersion = {
    ...fineTunedParts(run),
    params: { layers, epochs: 1 },
    labels,
    metrics: { accuracy: 0, macro_f1: 0, method: 'holdout' },
    report: {},
    exampleCount: train.length,
    trainingMs: Math.round(run.stats.totalSeconds * 1000),
  };
  const ended = await store.finishJob(job.id, 'bench', { state: 'succeeded', version: tunedVersion, activate: false });
  const TUNED = ended!.versionNumber!;
  await store.close();

  // No admission by predicted wait: the measure is throughput, and a loaded machine would otherwise answer 429.
  const svc = await startServiceProcess({
    TRANSFERD_DATA_DIR: dataDir,
    TRANSFERD_ORT_THREADS: String(availableParallelism()),
    TRANSFERD_JOB_POLL_MS: '200',
    TRANSFERD_MAX_QUEUE_WAIT_MS: '0',
  });
  try {
    await waitFor(`${svc.url}/readyz`, (s) => s === 200, 120_000);
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${svc.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as Record<string, unknown>;
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    // The frozen version: an SVM trained by a job on the same questions (its own task, so both predict side by side).
    const frozenTask = String((await post('/v1/tasks', { name: 'questions-frozen' })).id);
    const upload = await fetch(`${svc.url}/v1/tasks/${frozenTask}/examples`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: train.map((e) => JSON.stringify({ text: e.text, label: e.label })).join('\n'),
    });
    if (upload.status !== 201) throw new Error(`upload: ${upload.status}`);
    const started = await post(`/v1/tasks/${frozenTask}/jobs`, { head: 'svm', evaluation: { method: 'holdout', fraction: 0.2 } });
    let FROZEN = 0;
    for (;;) {
      const j = (await (await fetch(`${svc.url}/v1/tasks/${frozenTask}/jobs/${String(started.id)}`)).json()) as Record<string, unknown>;
      if (j.state === 'succeeded') {
        FROZEN = Number(j.version);
        break;
      }
      if (j.state === 'failed' || j.state === 'cancelled') throw new Error(`the SVM job ended ${String(j.state)}: ${JSON.stringify(j.error)}`);
      await new Promise((ok) => setTimeout(ok, 200));
    }
    log(`versions: frozen SVM ${frozenTask} v${FROZEN}, fine-tuned ${task.id} v${TUNED}`);

    const paths: Path[] = [
      {
        name: 'frozen: SVM on the last layer',
        group: 0,
        send: (texts) => post(`/v1/tasks/${frozenTask}/predict`, { input: texts, version: FROZEN }).then(() => undefined),
      },
      {
        name: `fine-tuned: top ${layers} layers`,
        group: 0,
        send: (texts) => post(`/v1/tasks/${task.id}/predict`, { input: texts, version: TUNED }).then(() => undefined),
      },
      {
        name: 'both in one /v1/predict',
        group: 1,
        send: (texts) =>
          post('/v1/predict', {
            input: texts,
            tasks: [
              { task: frozenTask, version: FROZEN },
              { task: task.id, version: TUNED },
            ],
          }).then(() => undefined),
      },
    ];
    const results = paths.map(() => ({ textsPerS: [] as number[], oneText: [] as number[] }));
    for (let round = 0; round < options.rounds; round++) {
      for (const [p, path] of paths.entries()) {
        const from = round * perRound + path.group * perGroup;
        const texts = fresh.slice(from, from + perGroup);
        const [warm, many, ones] = [
          texts.slice(0, REQUEST_TEXTS),
          texts.slice(REQUEST_TEXTS, REQUEST_TEXTS + options.texts),
          texts.slice(REQUEST_TEXTS + options.texts),
        ];
        await path.send(warm); // a stack to load, a head to parse: not the measurement's
        const requests = Array.from({ length: Math.ceil(many.length / REQUEST_TEXTS) }, (_, i) => many.slice(i * REQUEST_TEXTS, (i + 1) * REQUEST_TEXTS));
        const t0 = performance.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < requests.length) await path.send(requests[next++]!);
          }),
        );
        results[p]!.textsPerS.push(many.length / ((performance.now() - t0) / 1000));
        for (const text of ones) {
          const t = performance.now();
          await path.send([text]);
          results[p]!.oneText.push(performance.now() - t);
        }
        log(`round ${round + 1}, ${path.name}: ${fmt(results[p]!.textsPerS.at(-1)!, 0)} texts/s`);
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const frozenRate = mean(results[0]!.textsPerS);
    console.log(
      `bench:finetune --serving — ${DEFAULT_MODEL}, ${options.texts} fresh TREC texts a path a round (the same for the two versions, others for both at once) (requests of ${REQUEST_TEXTS}, ${CONCURRENCY} at a time), ` +
        `${single} single-text requests, ${options.rounds} rounds; ${cpus()[0]?.model ?? '?'} × ${availableParallelism()}, ${new Date().toISOString().slice(0, 10)}`,
    );
    printTable(
      ['path', 'texts/s (mean of rounds)', '× frozen', 'one text p50 ms', 'one text p95 ms'],
      paths.map((path, p) => {
        const r = results[p]!;
        return [path.name, fmt(mean(r.textsPerS), 0), fmt(mean(r.textsPerS) / frozenRate, 2), fmt(percentile(r.oneText, 50)), fmt(percentile(r.oneText, 95))];
      }),
    );
    const ratio = mean(results[1]!.textsPerS) / frozenRate;
    console.log(
      ratio >= THROUGHPUT_GOAL
        ? `\ngoal met: the fine-tuned path serves ${fmt(ratio, 2)}× the frozen path's texts/s (goal ≥ ${THROUGHPUT_GOAL}×)`
        : `\ngoal missed: the fine-tuned path serves ${fmt(ratio, 2)}× the frozen path's texts/s (goal ≥ ${THROUGHPUT_GOAL}×)`,
    );
  } finally {
    svc.proc.kill('SIGTERM');
    await svc.exited;
  }
}
