/**
 * The service as `npm start` runs it (a child process, SQLite in a fresh
 * directory, keys off), for the benchmarks that measure through the HTTP API,
 * with the few calls they all make.
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServiceProcess, waitFor } from '../../test/helpers/process.js';

export type Json = Record<string, unknown>;

export interface BenchService {
  /** A request; rejects on a status ≥ 300 with the answer in the message. */
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<Json>;
  /** Labelled examples uploaded as JSONL: each with its `label`, or its `labels` on a multi-label task. */
  upload(task: string, examples: ReadonlyArray<{ text: string; label?: string; labels?: string[] }>): Promise<Json>;
  /** A job started with `body`, awaited: the ended job (rejects unless it succeeded). */
  train(task: string, body: Json): Promise<Json>;
  /** The share of `texts` the task (or its version `version`) labels as they are labelled. */
  accuracy(task: string, texts: ReadonlyArray<{ text: string; label?: string }>, version?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchService(prefix: string): Promise<BenchService> {
  const svc = await startServiceProcess({
    TRANSFERD_DATA_DIR: mkdtempSync(join(tmpdir(), prefix)),
    TRANSFERD_ORT_THREADS: String(availableParallelism()),
    TRANSFERD_JOB_POLL_MS: '100',
    TRANSFERD_MAX_QUEUE_WAIT_MS: '0',
  });
  const stop = async () => {
    svc.proc.kill('SIGTERM');
    await svc.exited;
  };
  try {
    await waitFor(`${svc.url}/readyz`, (s) => s === 200, 120_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Json> => {
    const res = await fetch(`${svc.url}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const json = (await res.json()) as Json;
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 400)}`);
    return json;
  };
  return {
    call,
    stop,
    upload: (task, examples) =>
      call(
        'POST',
        `/v1/tasks/${task}/examples`,
        examples.map((e) => JSON.stringify(e.labels ? { text: e.text, labels: e.labels } : { text: e.text, label: e.label })).join('\n'),
        'application/x-ndjson',
      ),
    async train(task, body) {
      const job = await call('POST', `/v1/tasks/${task}/jobs`, body);
      for (;;) {
        const j = await call('GET', `/v1/tasks/${task}/jobs/${String(job.id)}`);
        if (j.state === 'succeeded') return j;
        if (j.state === 'failed' || j.state === 'cancelled') throw new Error(`job ${String(job.id)}: ${JSON.stringify(j.error ?? j.state)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async accuracy(task, texts, version) {
      const r = await call('POST', `/v1/tasks/${task}/predict`, { input: texts.map((e) => e.text), ...(version !== undefined ? { version } : {}) });
      const data = r.data as Array<{ label: string }>;
      return data.reduce((s, d, i) => s + (d.label === texts[i]!.label ? 1 : 0), 0) / texts.length;
    },
  };
}
