/**
 * npm run bench:load
 *
 * The service (a child process as `npm start` runs it: SQLite, keys off)
 * under load from autocannon, about half a minute per scenario:
 *   1. embeddings, 64 connections, one new Banking77 text per request;
 *   2. predict with a TREC task (trained here first), 64 connections, texts
 *      that repeat (their features are cached after the first pass);
 *   3-4. the same at about 4× the rate 1 and 2 sustained, over 1,024 connections:
 *      the service must shed what it cannot serve with 429 + Retry-After, keep
 *      the accepted requests' p99 bounded, fail nothing else, and be ready after.
 * One table: requests by status, accepted requests per second and their
 * latency, and the service's RSS before and after each scenario (it includes
 * every worker thread).
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServiceProcess, waitFor } from '../test/helpers/process.js';
import { loadJsonl, shuffled } from './lib/datasets.js';
import { fmt, percentile, printTable } from './lib/stats.js';

const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 30);
/**
 * Enough connections that the offered rate is not capped by clients waiting for answers: at 4× the
 * sustainable rate, answers that take up to a few seconds would otherwise hold every connection.
 */
const OVERLOAD_CONNECTIONS = 1024;
const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const svc = await startServiceProcess({
  TRANSFERD_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-load-')),
  TRANSFERD_ORT_THREADS: String(availableParallelism()),
  TRANSFERD_JOB_POLL_MS: '200',
});
await waitFor(`${svc.url}/readyz`, (s) => s === 200, 120_000);
const rssMb = () => {
  const line = readFileSync(`/proc/${svc.proc.pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(/\d+/.exec(line ?? '')?.[0] ?? 0) / 1024);
};
const json = async (method: string, path: string, body?: unknown, type = 'application/json') => {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: { 'content-type': type },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

log('training a TREC task for the predict scenarios');
const trec = loadJsonl('trec.train.jsonl');
const task = await json('POST', '/v1/tasks', { name: 'load' });
const taskId = String(task.body.id);
const upload = await json('POST', `/v1/tasks/${taskId}/examples`, trec.map((e) => JSON.stringify(e)).join('\n'), 'application/x-ndjson');
if (upload.status >= 300) throw new Error(`upload: ${JSON.stringify(upload.body)}`);
const job = await json('POST', `/v1/tasks/${taskId}/jobs`, { head: 'svm', evaluation: { method: 'holdout', fraction: 0.2 } });
for (;;) {
  const j = await json('GET', `/v1/tasks/${taskId}/jobs/${String(job.body.id)}`);
  if (j.body.state === 'succeeded') break;
  if (j.body.state === 'failed' || j.body.state === 'cancelled') throw new Error(`training ${JSON.stringify(j.body)}`);
  await new Promise((r) => setTimeout(r, 500));
}

const embedTexts = shuffled(loadJsonl('banking77.test.jsonl').map((e) => e.text));
const predictTexts = shuffled(loadJsonl('trec.test.jsonl').map((e) => e.text)).slice(0, 300);

interface Outcome {
  name: string;
  connections: number;
  offered: string;
  byStatus: Map<number, number>;
  acceptedMs: number[];
  acceptedPerS: number;
  errors: number;
  /** What the errors were: autocannon's error codes (timeouts, resets) by count. */
  errorKinds: Map<string, number>;
  rssBefore: number;
  rssAfter: number;
}

async function scenario(name: string, path: string, texts: string[], connections: number, overallRate?: number): Promise<Outcome> {
  log(`${name}: ${connections} connections${overallRate ? `, ${overallRate} requests/s offered` : ''}, ${SECONDS} s`);
  let next = 0;
  const byStatus = new Map<number, number>();
  const acceptedMs: number[] = [];
  const errorKinds = new Map<string, number>();
  const rssBefore = rssMb();
  const result = await new Promise<autocannon.Result>((ok, fail) => {
    const instance = autocannon(
      {
        url: svc.url,
        connections,
        duration: SECONDS,
        timeout: 30,
        ...(overallRate ? { overallRate } : {}),
        requests: [
          {
            method: 'POST',
            path,
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: JSON.stringify({ input: texts[next++ % texts.length] }) }),
          },
        ],
      },
      (err, res) => (err ? fail(err) : ok(res)),
    );
    instance.on('reqError', (err: Error & { code?: string }) => errorKinds.set(err.code ?? err.message, (errorKinds.get(err.code ?? err.message) ?? 0) + 1));
    instance.on('response', (_client, status, _bytes, ms) => {
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      if (status === 200) acceptedMs.push(ms);
    });
  });
  return {
    name,
    connections,
    offered: overallRate ? `${overallRate}/s` : 'closed loop',
    byStatus,
    acceptedMs,
    acceptedPerS: acceptedMs.length / SECONDS,
    // autocannon's errors include its timeouts.
    errors: result.errors,
    errorKinds,
    rssBefore,
    rssAfter: rssMb(),
  };
}

const outcomes: Outcome[] = [];
outcomes.push(await scenario('embeddings', '/v1/embeddings', embedTexts, 64));
outcomes.push(await scenario('predict', `/v1/tasks/${taskId}/predict`, predictTexts, 64));
const [embed, predict] = outcomes as [Outcome, Outcome];
outcomes.push(await scenario('embeddings ×4', '/v1/embeddings', embedTexts, OVERLOAD_CONNECTIONS, Math.round(4 * embed.acceptedPerS)));
outcomes.push(await scenario('predict ×4', `/v1/tasks/${taskId}/predict`, predictTexts, OVERLOAD_CONNECTIONS, Math.round(4 * predict.acceptedPerS)));
const ready = (await fetch(`${svc.url}/readyz`)).status;

svc.proc.kill('SIGTERM');
const exit = await svc.exited;

const count = (o: Outcome, test: (s: number) => boolean) => [...o.byStatus].filter(([s]) => test(s)).reduce((n, [, c]) => n + c, 0);
console.log(
  `bench:load — ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} CPUs, SQLite, keys off, ${SECONDS} s per scenario (autocannon 9, same machine)`,
);
printTable(
  ['scenario', 'connections', 'offered', 'requests', '200', '429', '5xx', 'other', 'accepted/s', 'accepted p50 ms', 'accepted p99 ms', 'RSS MB before → after'],
  outcomes.map((o) => [
    o.name,
    o.connections,
    o.offered,
    count(o, () => true) + o.errors,
    count(o, (s) => s === 200),
    count(o, (s) => s === 429),
    count(o, (s) => s >= 500),
    count(o, (s) => s !== 200 && s !== 429 && s < 500) + o.errors,
    fmt(o.acceptedPerS, 0),
    o.acceptedMs.length ? fmt(percentile(o.acceptedMs, 50)) : '-',
    o.acceptedMs.length ? fmt(percentile(o.acceptedMs, 99)) : '-',
    `${o.rssBefore} → ${o.rssAfter}`,
  ]),
);
for (const o of outcomes) {
  const other = [...o.byStatus].filter(([s]) => s !== 200 && s !== 429 && s < 500).map(([s, n]) => `${s} ×${n}`);
  const errors = [...o.errorKinds].map(([k, n]) => `${k} ×${n}`);
  if (other.length || errors.length) console.log(`${o.name}, other: ${[...other, ...errors].join(', ')}`);
}
console.log(`/readyz after the load: ${ready}; exit code after SIGTERM: ${exit}`);
