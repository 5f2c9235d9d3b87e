/**
 * Run as a child process with --expose-gc: builds the real service (its own
 * SQLite, the real model), uploads a gzip body of `records` small invalid
 * examples to a task, and prints one JSON line: the answer, and how far the
 * heap grew above its collected baseline while the upload was read (sampled
 * every few milliseconds). hostile-memory.test.ts reads it.
 *
 *   node --expose-gc dist/test/helpers/upload-memory.js 150000
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULT_MODEL, loadConfig } from '../../src/config.js';
import { ModelRegistry } from '../../src/encoder/registry.js';
import { createLogger } from '../../src/log.js';
import { assemble } from '../../src/service.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const records = Number(process.argv[2] ?? 150_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** Records with a text and no label; random texts, so the body compresses like real data (2–3×) and passes the expansion bound. */
function invalidRecords(n: number): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`{"text":"${randomBytes(6).toString('hex')}"}`);
  return gzipSync(lines.join('\n'));
}

const config = loadConfig({ TRANSFERD_TRAINING_CONCURRENCY: '0' });
const store = new SqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'transferd-memory-')), 'transferd.db'), maxLabels: config.TRANSFERD_MAX_LABELS });
await store.migrate();
const models = await ModelRegistry.load({
  modelsDir: 'models',
  models: [DEFAULT_MODEL],
  threads: 1,
  spin: false,
  maxBatchTokens: 8192,
  maxBatchSize: 64,
  maxQueuedTexts: 16384,
});
const parts = assemble({ config, log: createLogger('memory', true), models, store });
const server = createServer(parts.app.app);
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const task = (await (
  await fetch(`${base}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"memory"}' })
).json()) as { id: string };

const body = invalidRecords(records);
for (let i = 0; i < 3; i++) gc();
const baseline = process.memoryUsage().heapUsed;
let peak = baseline;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().heapUsed);
}, 2);
const res = await fetch(`${base}/v1/tasks/${task.id}/examples`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
  body,
});
const answer = (await res.json()) as { error?: { code: string; errors?: unknown[]; more?: number } };
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().heapUsed);
const mb = (b: number) => Math.round((b / 1024 ** 2) * 10) / 10;
process.stdout.write(
  `${JSON.stringify({
    records,
    gzipBytes: body.byteLength,
    status: res.status,
    code: answer.error?.code,
    listed: answer.error?.errors?.length,
    more: answer.error?.more,
    baselineMb: mb(baseline),
    peakMb: mb(peak),
    growthMb: mb(peak - baseline),
  })}\n`,
);
process.exit(0);
