/** The service as a process: readiness while starting, responsiveness under load, graceful shutdown. */
import '../helpers/cleanup.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServiceProcess, waitFor } from '../helpers/process.js';

const bigRequest = (url: string, n: number) =>
  fetch(`${url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: Array.from({ length: n }, (_, i) => `text number ${i} about a card payment that did not go through`) }),
  });

/** Waits until the encoder holds queued texts: the request is past HTTP parsing and in flight. */
async function untilEncoderBusy(url: string): Promise<void> {
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (/encoder_queue_depth\{model="all-MiniLM-L6-v2"\} [1-9]/.test(text)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('/readyz answers 503 until the model is loaded and warmed up, then 200; /healthz is 200 throughout', async () => {
  const svc = await startServiceProcess();
  assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  const seen = await waitFor(`${svc.url}/readyz`, (s) => s === 200);
  assert.equal(seen[0], 503, `first readiness answer was ${seen[0]}, expected 503 while loading`);
  const ready = svc.logs.find((l) => l.msg === 'ready');
  assert.ok(ready, 'the service logs when it is ready');
  svc.proc.kill('SIGTERM');
  assert.equal(await svc.exited, 0);
});

test('the event loop stays free while the encoder works: /healthz answers during a 2048-text request', async () => {
  const svc = await startServiceProcess();
  await waitFor(`${svc.url}/readyz`, (s) => s === 200);
  let bigDone = false;
  const big = bigRequest(svc.url, 2048).then((r) => {
    bigDone = true;
    return r;
  });
  await untilEncoderBusy(svc.url);
  const health = await fetch(`${svc.url}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(bigDone, false, 'health answered while the big request was still being encoded');
  const res = await big;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { data: unknown[] }).data.length, 2048);
  svc.proc.kill('SIGTERM');
  assert.equal(await svc.exited, 0);
});

test('SIGTERM drains: the in-flight request completes, new connections are refused, the process exits 0', async () => {
  const svc = await startServiceProcess();
  await waitFor(`${svc.url}/readyz`, (s) => s === 200);
  const inflight = bigRequest(svc.url, 512);
  await untilEncoderBusy(svc.url);
  svc.proc.kill('SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200, 'the request accepted before SIGTERM was answered');
  assert.equal(((await res.json()) as { data: unknown[] }).data.length, 512);
  assert.equal(await svc.exited, 0);
  await assert.rejects(fetch(`${svc.url}/healthz`), 'the port no longer accepts connections');
  assert.ok(svc.logs.some((l) => l.msg === 'shutting down: draining in-flight requests'));
});

test('a bad configuration stops the process with exit code 2 and names the variable', async () => {
  await assert.rejects(startServiceProcess({ TRANSFERD_MAX_INPUTS: 'many' }), /TRANSFERD_MAX_INPUTS/);
});
