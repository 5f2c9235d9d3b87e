/**
 * npm run bench:replicas
 *
 * Predict throughput through nginx with 1 and 3 replicas on one PostgreSQL
 * database (the baseline is the single replica, measured in the same run), the
 * database transactions each request costs, and the time from activating a
 * version on one replica to every replica serving it.
 */
import { closeConnections, timedPost } from './lib/http.js';
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startNginx, stopNginx, type Nginx } from '../test/helpers/nginx.js';
import { leftovers, startServiceProcess, waitFor, type ServiceProcess } from '../test/helpers/process.js';
import { call } from '../test/helpers/http.js';
import { waitForJob } from '../test/helpers/jobs.js';
import { loadJsonl, shuffled } from './lib/datasets.js';
import { fmt, median, percentile, printTable } from './lib/stats.js';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const REPS = 3;
const CLIENTS = 16;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
const commits = async () => Number((await admin.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()')).rows[0].xact_commit);

async function replica(id: string): Promise<ServiceProcess> {
  const svc = await startServiceProcess({
    DATABASE_URL: PG_URL,
    TRANSFERD_DATABASE_SCHEMA: schema,
    TRANSFERD_REPLICA_ID: id,
    TRANSFERD_ORT_THREADS: String(availableParallelism()),
  });
  await waitFor(`${svc.url}/readyz`, (s) => s === 200, 60_000);
  return svc;
}

async function load(url: string, taskId: string, texts: string[], perRequest: number, requests: number, headers: Record<string, string> = {}) {
  const bodies = Array.from({ length: requests }, (_, r) =>
    JSON.stringify({ input: Array.from({ length: perRequest }, (_, k) => texts[(r * perRequest + k) % texts.length]!), top_k: 1 }),
  );
  const latencies: number[] = [];
  let next = 0;
  const before = await commits();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < bodies.length) latencies.push(await timedPost(url, `/v1/tasks/${taskId}/predict`, bodies[next++]!, headers));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { latencies, textsPerS: (requests * perRequest) / seconds, xactsPerRequest: ((await commits()) - before) / requests, seconds };
}

const all = shuffled(loadJsonl('banking77.train.jsonl'), 7);
const train = all.slice(0, 3000);
const seen = train.map((e) => e.text);
const seenSet = new Set(seen);
// Texts no replica has seen: each measured run of the encoder scenario takes its own, so no run finds them cached.
const unseen = [...new Set([...shuffled(loadJsonl('banking77.test.jsonl'), 7).map((e) => e.text), ...all.slice(3000).map((e) => e.text)])].filter(
  (t) => !seenSet.has(t),
);
let unseenUsed = 0;
const fresh = (n: number) => {
  if (unseenUsed + n > unseen.length) throw new Error('out of unseen texts');
  unseenUsed += n;
  return unseen.slice(unseenUsed - n, unseenUsed);
};

log(`schema ${schema}: starting replicas`);
const replicas: ServiceProcess[] = [await replica('bench-1')];
const task = (await call(replicas[0]!.url, 'POST', '/v1/tasks', { name: 'bench' })).body;
await call(replicas[0]!.url, 'POST', `/v1/tasks/${task.id}/examples`, train.map((e) => JSON.stringify(e)).join('\n'), 'application/x-ndjson');
log('training v1 (svm) and v2 (random forest, not activated)');
for (const head of ['svm', 'random_forest']) {
  const job = (
    await call(replicas[0]!.url, 'POST', `/v1/tasks/${task.id}/jobs`, { head, activate: head === 'svm', evaluation: { method: 'holdout', fraction: 0.1 } })
  ).body;
  const end = await waitForJob(replicas[0]!.url, task.id, job.id, 600_000);
  if (end.state !== 'succeeded') throw new Error(JSON.stringify(end));
}

const SCENARIOS = [
  { name: 'seen texts (features cached)', texts: () => seen, perRequest: 1, requests: 1500 },
  { name: 'seen texts (features cached)', texts: () => seen, perRequest: 32, requests: 150 },
  { name: 'new texts (through the encoder)', texts: () => fresh(600), perRequest: 1, requests: 600 },
];

const rows: Array<Array<string | number>> = [];
const baseline = new Map<number, number>();
let lb: Nginx | undefined;
for (const count of [1, 3]) {
  while (replicas.length < count) replicas.push(await replica(`bench-${replicas.length + 1}`));
  // The previous balancer stops with its workers before the next one starts.
  if (lb) await stopNginx(lb);
  lb = await startNginx(replicas.map((r) => r.port));
  // Steady state: every replica has the head and the seen texts' features in memory (loaded from the store once).
  for (const r of replicas)
    for (let k = 0; k < seen.length; k += 100) await call(r.url, 'POST', `/v1/tasks/${task.id}/predict`, { input: seen.slice(k, k + 100) });
  for (const [i, s] of SCENARIOS.entries()) {
    log(`${count} replica(s): ${s.name}, ${s.perRequest} text(s)/request`);
    await load(lb.url, task.id, s.texts(), s.perRequest, Math.min(200, s.requests)); // warm-up: connections, JIT
    const runs = [];
    for (let r = 0; r < REPS; r++) runs.push(await load(lb.url, task.id, shuffled(s.texts(), r + 1), s.perRequest, s.requests));
    const tput = median(runs.map((x) => x.textsPerS));
    if (count === 1) baseline.set(i, tput);
    const lat = runs.flatMap((x) => x.latencies);
    rows.push([
      count,
      s.name,
      s.perRequest,
      CLIENTS,
      fmt(tput, 0),
      fmt(percentile(lat, 50), 1),
      fmt(percentile(lat, 99), 1),
      fmt(tput / baseline.get(i)!, 2),
      fmt(median(runs.map((x) => x.xactsPerRequest)), 2),
    ]);
  }
}

// Activation fan-out: every replica has the active version cached; activate the other one through replica 1.
log('activation fan-out');
const fanout: number[] = [];
for (let k = 0; k < 10; k++) {
  const target = k % 2 === 0 ? 2 : 1;
  for (const r of replicas) await call(r.url, 'POST', `/v1/tasks/${task.id}/predict`, { input: seen[0] });
  const t0 = performance.now();
  await call(replicas[0]!.url, 'POST', `/v1/tasks/${task.id}/versions/${target}/activate`);
  const times = await Promise.all(
    replicas.map(async (r) => {
      for (;;) {
        if ((await call(r.url, 'POST', `/v1/tasks/${task.id}/predict`, { input: seen[0] })).body.version === target) return performance.now() - t0;
        await new Promise((ok) => setTimeout(ok, 2));
      }
    }),
  );
  fanout.push(Math.max(...times));
}

for (const r of replicas) r.proc.kill('SIGTERM');
await Promise.all(replicas.map((r) => r.exited));
if (lb) await stopNginx(lb);

// What keeping each client's cached features its own costs: a second client predicting texts the first just sent.
log('feature cache across clients: each its own (the default with keys on), then shared');
const ADMIN = randomBytes(32).toString('hex');
const cacheRows: Array<Array<string | number>> = [];
const cacheSchemas: string[] = [];
const encodedForPredict = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/features_encoded_texts\{purpose="predict"\} (\d+)/.exec(text)?.[1] ?? Number.NaN);
};
for (const shared of [false, true]) {
  const own = `${schema}_${shared ? 'shared' : 'own'}`;
  cacheSchemas.push(own);
  const svc = await startServiceProcess({
    DATABASE_URL: PG_URL,
    TRANSFERD_DATABASE_SCHEMA: own,
    TRANSFERD_ORT_THREADS: String(availableParallelism()),
    TRANSFERD_ADMIN_KEY: ADMIN,
    TRANSFERD_SHARED_FEATURE_CACHE: String(shared),
    TRANSFERD_CLIENT_REQUESTS_PER_MINUTE: '0',
    TRANSFERD_CLIENT_TOKENS_PER_MINUTE: '0',
  });
  await waitFor(`${svc.url}/readyz`, (s) => s === 200, 60_000);
  const adminAuth = { authorization: `Bearer ${ADMIN}` };
  const clients: Array<{ task: string; auth: Record<string, string> }> = [];
  for (const name of ['first', 'second']) {
    const c = (await call(svc.url, 'POST', '/v1/admin/clients', { name }, 'application/json', adminAuth)).body;
    const key = (await call(svc.url, 'POST', `/v1/admin/clients/${c.id}/keys`, {}, 'application/json', adminAuth)).body.key as string;
    const auth = { authorization: `Bearer ${key}` };
    const t = (await call(svc.url, 'POST', '/v1/tasks', { name: 'cache' }, 'application/json', auth)).body;
    const upload = train
      .slice(0, 1000)
      .map((e) => JSON.stringify(e))
      .join('\n');
    await call(svc.url, 'POST', `/v1/tasks/${t.id}/examples`, upload, 'application/x-ndjson', auth);
    const job = (
      await call(svc.url, 'POST', `/v1/tasks/${t.id}/jobs`, { head: 'svm', evaluation: { method: 'holdout', fraction: 0.1 } }, 'application/json', auth)
    ).body;
    const end = await waitForJob(svc.url, t.id, job.id, 600_000, key);
    if (end.state !== 'succeeded') throw new Error(JSON.stringify(end));
    clients.push({ task: t.id, auth });
  }
  const texts = fresh(600);
  for (const [i, c] of clients.entries()) {
    const before = await encodedForPredict(svc.url);
    const run = await load(svc.url, c.task, texts, 1, texts.length, c.auth);
    const encoded = (await encodedForPredict(svc.url)) - before;
    cacheRows.push([
      shared ? 'shared' : "each client's own",
      i === 0 ? 'first client, new texts' : 'second client, the same texts',
      fmt(run.textsPerS, 0),
      fmt(percentile(run.latencies, 50), 1),
      fmt(percentile(run.latencies, 99), 1),
      encoded,
    ]);
  }
  svc.proc.kill('SIGTERM');
  await svc.exited;
}
const left = leftovers();
if (left.length) log(`left running (killed at exit): ${left.join(', ')}`);
closeConnections();
await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
for (const s of cacheSchemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
await admin.end();

console.log(
  `bench:replicas — ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} CPUs, PostgreSQL ${PG_URL.replace(/\/\/[^@]*@/, '//')}, nginx least_conn, ${CLIENTS} concurrent clients, throughput = median of ${REPS} runs (baseline: 1 replica, same run)`,
);
printTable(['replicas', 'texts', 'texts/req', 'clients', 'texts/s', 'p50 ms', 'p99 ms', 'vs 1 replica', 'db transactions/request'], rows);
console.log();
printTable(
  ['activation → every replica serving it', 'median ms', 'max ms', 'activations'],
  [['through replica 1, 3 replicas', fmt(median(fanout), 1), fmt(Math.max(...fanout), 1), fanout.length]],
);
console.log(`(each: ${fanout.map((x) => fmt(x, 0)).join(', ')} ms)`);
console.log();
printTable(['feature cache (1 replica, keys on)', 'client', 'texts/s', 'p50 ms', 'p99 ms', 'texts encoded'], cacheRows);
process.exit(0);
