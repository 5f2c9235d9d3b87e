/**
 * Hostile connections against the service as a process, where the server's
 * own timeouts and shutdown are real: announced and trickled bodies, broken
 * escapes and encodings (answered without an error in the logs), and a client
 * that leaves mid-request before a graceful shutdown.
 */
import '../helpers/cleanup.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServiceProcess, waitFor } from '../helpers/process.js';
import { abandonRequest, head, rawRequest } from '../helpers/raw-http.js';

const svc = await startServiceProcess({ TRANSFERD_BODY_TIMEOUT_MS: '1000', TRANSFERD_SHUTDOWN_TIMEOUT_MS: '30000' });
await waitFor(`${svc.url}/readyz`, (s) => s === 200, 120_000);

function assertJsonError(
  r: { status: number; json: { error?: { code?: string } } | undefined; headers: Record<string, string> },
  status: number,
  code: string,
) {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(r.json?.error?.code, code);
}

test('a body announced at 300 MB gets a JSON 413 without being sent, and the connection is closed', { timeout: 60_000 }, async () => {
  for (const path of ['/v1/embeddings', '/v1/tasks/task_x/examples']) {
    const r = await rawRequest(svc.url, head('POST', path, { 'Content-Type': 'application/json', 'Content-Length': 300 * 1024 ** 2 }), { closeWaitMs: 10_000 });
    assertJsonError(r, 413, 'body_too_large');
    assert.equal(r.closed, true);
  }
});

test("a body that stops arriving gets the service's JSON 408, not Node's bare one minutes later", { timeout: 90_000 }, async () => {
  const r = await rawRequest(svc.url, head('POST', '/v1/embeddings', { 'Content-Type': 'application/json', 'Content-Length': 100 }), {
    body: ['{"input": "slo', { pauseMs: 120_000 }],
    closeWaitMs: 10_000,
  });
  assertJsonError(r, 408, 'request_timeout');
  assert.equal(r.closed, true);
});

test('a malformed escape, brotli and a plain body labelled gzip are client errors, logged as none', { timeout: 60_000 }, async () => {
  const broken = await rawRequest(svc.url, head('GET', '/v1/tasks/%E0%A4%A'), { closeWaitMs: 50 });
  assertJsonError(broken, 400, 'invalid_path');
  const encoded = (encoding: string) =>
    fetch(`${svc.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: '{"input":"x"}' });
  const br = await encoded('br');
  assert.equal(br.status, 415);
  assert.equal(((await br.json()) as { error: { code: string } }).error.code, 'unsupported_encoding');
  const gzip = await encoded('gzip');
  assert.equal(gzip.status, 400);
  assert.equal(((await gzip.json()) as { error: { code: string } }).error.code, 'invalid_body');
  assert.deepEqual(
    svc.logs.filter((l) => l.level === 'error'),
    [],
    'nothing logged as an error',
  );
});

test("requests Node's HTTP parser refuses get the API's JSON errors too: a malformed header, headers too large", { timeout: 60_000 }, async () => {
  const malformed = await rawRequest(svc.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', { closeWaitMs: 10_000 });
  assertJsonError(malformed, 400, 'invalid_request');
  assert.equal(malformed.closed, true);
  const huge = await rawRequest(svc.url, head('GET', '/healthz', { 'X-Padding': 'p'.repeat(32 * 1024) }), { closeWaitMs: 10_000 });
  assertJsonError(huge, 431, 'headers_too_large');
  assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
});

test('a client that leaves mid-request does not hold up shutdown: SIGTERM drains without the timeout', { timeout: 90_000 }, async () => {
  await abandonRequest(svc.url, head('POST', '/v1/embeddings', { 'Content-Type': 'application/json', 'Content-Length': 1000 }), '{"input": "half a body');
  // Its whole body sent, its answer still being computed when the client goes.
  const busy = JSON.stringify({ input: Array.from({ length: 2048 }, (_, i) => `a text that takes the encoder a while, number ${i}`) });
  await abandonRequest(svc.url, head('POST', '/v1/embeddings', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(busy) }), busy);
  await abandonRequest(svc.url, head('POST', '/v1/tasks/task_x/examples', { 'Content-Type': 'application/x-ndjson', 'Content-Length': 1000 }), '{"text"');
  assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
  svc.proc.kill('SIGTERM');
  assert.equal(await svc.exited, 0);
  const timedOut = svc.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('shutdown timeout'));
  assert.equal(timedOut, undefined, `shutdown waited out its timeout: ${JSON.stringify(timedOut)}`);
});
