/**
 * The one channel every worker thread speaks through: calls settle by id,
 * errors keep their codes, a cancelled call is answered at once and its
 * worker told, a crash fails pending calls once and restarts the worker once,
 * and stopping runs the worker's onStop before it exits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDomainError } from '../../src/errors.js';
import { WorkerChannel } from '../../src/workers/channel.js';
import type { TestApi } from '../helpers/channel-worker.js';

const url = new URL('../helpers/channel-worker.js', import.meta.url);
const counters = () => new Int32Array(new SharedArrayBuffer(12));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('calls settle by id with their own results; events arrive; errors keep their code and keep stacks out of the message', async () => {
  const c = counters();
  const channel = new WorkerChannel<TestApi, { type: 'tick'; n: number }>({ url, name: 'test worker', workerData: c });
  try {
    await channel.whenReady();
    let ticks = 0;
    channel.on('event', (e) => (ticks += e.n));
    const slow = channel.call('wait', { ms: 100 });
    const values = await Promise.all([1, 'two', { three: [3] }].map((value) => channel.call('echo', { value })));
    assert.deepEqual(values, [1, 'two', { three: [3] }]);
    assert.equal(await slow, 'waited');
    assert.equal(ticks, 3);
    const domain = await channel.call('fail', { domain: true }).catch((e: unknown) => e);
    assert.ok(isDomainError(domain, 'invalid_params') && domain.param === 'C' && domain.message === 'C must be > 0');
    const plain = (await channel.call('fail', { domain: false }).catch((e: unknown) => e)) as Error;
    assert.equal(plain.message, 'plain failure');
    assert.match(plain.stack ?? '', /channel-worker\.js/, "the worker's stack is kept for the logs");
  } finally {
    await channel.stop();
  }
});

test('an aborted call is rejected at once with the reason, and the worker sees its signal abort', async () => {
  const c = counters();
  const channel = new WorkerChannel<TestApi>({ url, name: 'test worker', workerData: c });
  try {
    await channel.whenReady();
    const controller = new AbortController();
    const started = Date.now();
    const call = channel.call('wait', { ms: 2000 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(call, (e: unknown) => isDomainError(e, 'client_closed_request'));
    assert.ok(Date.now() - started < 1000, 'rejected without waiting for the worker');
    for (let i = 0; i < 100 && Atomics.load(c, 2) === 0; i++) await sleep(10);
    assert.equal(Atomics.load(c, 2), 1, "the worker's handler saw the abort");
    assert.equal(channel.pendingCalls, 0);
  } finally {
    await channel.stop();
  }
});

test('a crash fails every pending call once, emits one exit, and restarts the worker once', async () => {
  const c = counters();
  const channel = new WorkerChannel<TestApi>({ url, name: 'test worker', workerData: c, restartDelayMs: 50 });
  try {
    await channel.whenReady();
    const exits: string[] = [];
    channel.on('exit', (reason) => exits.push(reason));
    const pending = channel.call('wait', { ms: 5000 });
    const crash = channel.call('crash', null);
    for (const p of [pending, crash]) await assert.rejects(p, (e: unknown) => isDomainError(e, 'worker_crashed') && /boom/.test((e as Error).message));
    assert.equal(channel.alive, false);
    await sleep(400); // the `exit` that follows the `error` must not start a second replacement
    assert.deepEqual(exits.length, 1, `one exit: ${exits.join(' | ')}`);
    await channel.whenReady();
    assert.equal(Atomics.load(c, 0), 2, 'one replacement worker started');
    assert.equal(await channel.call('echo', { value: 'again' }), 'again');
  } finally {
    await channel.stop();
  }
});

test("stop runs the worker's onStop, waits for its exit, fails pending calls, and refuses new ones", async () => {
  const c = counters();
  const channel = new WorkerChannel<TestApi>({ url, name: 'test worker', workerData: c, restartDelayMs: 0 });
  await channel.whenReady();
  const pending = channel.call('wait', { ms: 5000 }).catch((e: unknown) => e);
  await channel.stop();
  assert.ok(isDomainError(await pending, 'shutdown'));
  assert.equal(Atomics.load(c, 1), 1, 'onStop ran');
  assert.equal(channel.alive, false);
  await assert.rejects(channel.call('echo', { value: 1 }), (e: unknown) => isDomainError(e, 'worker_crashed'));
  await sleep(100);
  assert.equal(Atomics.load(c, 0), 1, 'a stopped worker is not restarted');
});
