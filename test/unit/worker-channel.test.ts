/**
 * The one channel every worker thread speaks through: calls settle by id,
 * errors keep their codes, a cancelled call is answered at once and its
 * worker told, a crash fails pending calls once and restarts the worker once,
 * and stopping runs the worker's onStop before it exits; a worker may be a
 * child process on the same terms, which dies with its parent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DomainError, isDomainError } from '../../src/errors.js';
import { WorkerChannel } from '../../src/workers/channel.js';
import type { ProcessTestApi, ProcessTestEvent } from '../helpers/channel-process.js';
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

const childUrl = new URL('../helpers/channel-process.js', import.meta.url);

/** Whether process `pid` is alive (a zombie is not: it holds nothing). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('a child process serves calls as a thread does: typed arrays cross, a dropped call reaches it, stop waits for its exit', async () => {
  const channel = new WorkerChannel<ProcessTestApi, ProcessTestEvent>({ url: childUrl, name: 'test process', isolation: 'process' });
  const events: string[] = [];
  channel.on('event', (e) => events.push(e.type));
  await channel.whenReady();
  const pid = await channel.call('pid', null);
  assert.notEqual(pid, process.pid, 'another process');
  assert.deepEqual(await channel.call('echo', { value: { x: Float32Array.of(1.5, -2), n: 2 } }), { x: Float32Array.of(1.5, -2), n: 2 });
  const controller = new AbortController();
  const waiting = channel.call('wait', { ms: 5000 }, { signal: controller.signal });
  controller.abort(new DomainError('cancelled', 'cancelled on request'));
  await assert.rejects(waiting, (e: unknown) => isDomainError(e, 'cancelled'));
  for (let i = 0; i < 200 && !events.includes('aborted'); i++) await sleep(10);
  assert.ok(events.includes('aborted'), 'the child saw the call dropped');
  await channel.stop();
  assert.ok(events.includes('stopping'), 'onStop ran');
  assert.equal(alive(pid), false, 'the process has exited');
});

test('a child process that crashes fails its pending calls once, saying why', async () => {
  const channel = new WorkerChannel<ProcessTestApi>({ url: childUrl, name: 'test process', isolation: 'process' });
  await channel.whenReady();
  const pending = channel.call('wait', { ms: 5000 });
  const crash = channel.call('crash', null);
  for (const p of [pending, crash])
    await assert.rejects(
      p,
      (e: unknown) => isDomainError(e, 'worker_crashed') && /test process stopped: exited with code 1 \(.*boom in the child/.test((e as Error).message),
    );
  assert.equal(channel.alive, false);
  await channel.stop();
});

test('a child process whose parent dies goes too', async () => {
  // A parent that starts the child, says the child's pid, and waits to be killed.
  const script = `
    const { WorkerChannel } = await import(${JSON.stringify(new URL('../../src/workers/channel.js', import.meta.url).href)});
    const channel = new WorkerChannel({ url: new URL(${JSON.stringify(childUrl.href)}), name: 'orphan', isolation: 'process' });
    await channel.whenReady();
    console.log(await channel.call('pid', null));
    setInterval(() => undefined, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = Number(await new Promise<string>((ok) => parent.stdout!.once('data', (d: Buffer) => ok(d.toString()))));
  assert.ok(alive(pid));
  parent.kill('SIGKILL');
  for (let i = 0; i < 500 && alive(pid); i++) await sleep(10);
  assert.equal(alive(pid), false, 'the orphaned child exited');
});
