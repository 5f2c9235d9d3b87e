/**
 * npm run bench:memory
 *
 * Does a server's memory follow its configured caches, or its history? Starts
 * the service as `npm start` does (embedded SQLite in a fresh folder, default
 * settings), trains five tasks of 4,000–16,000 examples one after another
 * (default SVM, 5-fold CV), and reads the process's resident memory after each
 * job once the server is idle again, with where it lives (/proc smaps: the
 * main malloc heap, other malloc arenas, other anonymous mappings such as V8
 * heaps and array buffers, files). Extra environment for the server:
 * MEMORY_BENCH_ENV='{"MALLOC_ARENA_MAX":"2"}'.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../test/helpers/http.js';
import { waitForJob } from '../test/helpers/jobs.js';
import { startServiceProcess, waitFor } from '../test/helpers/process.js';
import { loadJsonl } from './lib/datasets.js';
import { fmt, printTable } from './lib/stats.js';

const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const MB = 1024;

/** Resident kB of `pid` by kind of mapping. */
function residency(pid: number) {
  const out = { total: 0, mainHeap: 0, arenas: 0, anonymous: 0, files: 0 };
  let kind: keyof typeof out = 'anonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      const size = (Number.parseInt(m[2]!, 16) - Number.parseInt(m[1]!, 16)) / 1024;
      const name = m[3]!;
      // glibc's secondary arenas are mmapped heaps of 64 MB (HEAP_MAX_SIZE), aligned to their size.
      const aligned = Number.parseInt(m[1]!, 16) % (64 * 1024 * 1024) === 0;
      kind = name === '[heap]' ? 'mainHeap' : name.startsWith('/') ? 'files' : !name && size <= 64 * MB && aligned ? 'arenas' : 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      out[kind] += Number(rss[1]);
      out.total += Number(rss[1]);
    }
  }
  return out;
}

const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

const goemotions = loadJsonl('goemotions.train.jsonl') as unknown as Array<{ text: string; labels: string[] }>;
const single = (rows: typeof goemotions) => rows.map((r) => ({ text: r.text, label: r.labels[0]! }));
const TASKS = [
  { name: 'trec', rows: loadJsonl('trec.train.jsonl') },
  { name: 'sst2', rows: loadJsonl('sst2.train.jsonl') },
  { name: 'banking77', rows: loadJsonl('banking77.train.jsonl') },
  { name: 'goemotions-16k', rows: single(goemotions.slice(0, 16_000)) },
  { name: 'goemotions-4k', rows: single(goemotions.slice(16_000, 20_000)) },
];

const dataDir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
const extra = JSON.parse(process.env.MEMORY_BENCH_ENV ?? '{}') as Record<string, string>;
const svc = await startServiceProcess({ TRANSFERD_DATA_DIR: dataDir, TRANSFERD_ORT_THREADS: '2', ...extra });
await waitFor(`${svc.url}/readyz`, (s) => s === 200, 120_000);
const pid = svc.proc.pid!;
const rows: Array<Array<string | number>> = [];
const sample = (after: string, examples: number | string, ms: number | string) => {
  const r = residency(pid);
  rows.push([after, examples, ms, fmt(r.total / MB, 0), fmt(r.mainHeap / MB, 0), fmt(r.arenas / MB, 0), fmt(r.anonymous / MB, 0), fmt(r.files / MB, 0)]);
  log(`${after}: RSS ${fmt(r.total / MB, 0)} MB`);
};
await idle(5000);
sample('start (ready, idle)', '-', '-');
try {
  for (const t of TASKS) {
    const task = (await call(svc.url, 'POST', '/v1/tasks', { name: t.name })).body;
    const up = await call(
      svc.url,
      'POST',
      `/v1/tasks/${task.id}/examples?on_conflict=skip`,
      t.rows.map((r) => JSON.stringify(r)).join('\n'),
      'application/x-ndjson',
    );
    if (up.status >= 300) throw new Error(`upload ${t.name}: ${up.status} ${JSON.stringify(up.body)}`);
    const started = performance.now();
    const job = (await call(svc.url, 'POST', `/v1/tasks/${task.id}/jobs`, { head: 'svm' })).body;
    if (!job.id) throw new Error(`job ${t.name}: ${JSON.stringify(job)}`);
    const end = await waitForJob(svc.url, task.id, job.id, 3_600_000);
    if (end.state !== 'succeeded') throw new Error(`${t.name}: ${JSON.stringify(end.error)}`);
    // A few predictions, as a served task gets: its head is loaded in a predict worker.
    await call(svc.url, 'POST', `/v1/tasks/${task.id}/predict`, { input: t.rows.slice(0, 64).map((r) => r.text) });
    const ms = performance.now() - started;
    await idle(10_000);
    sample(`after ${t.name}`, up.body.example_count, fmt(ms / 1000, 0));
  }
  await idle(30_000);
  sample('idle 30 s more', '-', '-');
} finally {
  svc.proc.kill('SIGTERM');
  await svc.exited;
  rmSync(dataDir, { recursive: true, force: true });
}

console.log(
  `bench:memory — node dist/bench/memory.js, ${new Date().toISOString().slice(0, 10)}; SQLite, default settings${Object.keys(extra).length ? `, ${JSON.stringify(extra)}` : ''}; RSS 10 s after each job (MB), by mapping`,
);
printTable(['after', 'examples', 'job + predict s', 'RSS', 'main malloc heap', 'other malloc arenas', 'other anonymous (V8, buffers)', 'files'], rows);
process.exit(0);
