/**
 * A large upload on the embedded SQLite store holds its write transaction for
 * seconds; meanwhile /readyz and predictions must still answer. Asserted as an
 * order of events (each answered before the upload did), never as a duration.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Store } from '../../src/store/types.js';
import { listen, testService, testStore } from '../helpers/app.js';
import { intents } from '../helpers/fixtures.js';
import { createTask, train } from '../helpers/jobs.js';

const real = await testStore();
const upload = { started: false, finished: false };
const store = new Proxy(real, {
  get(target, key, receiver) {
    if (key === 'addExamples') {
      return (...args: Parameters<Store['addExamples']>) => {
        upload.started = true;
        return target.addExamples(...args).finally(() => {
          upload.finished = true;
        });
      };
    }
    const value = Reflect.get(target, key, receiver);
    return typeof value === 'function' ? value.bind(target) : value;
  },
}) as Store;
const svc = await testService({ store });
const { url } = await listen(svc.app.app);

test('while a 200,000-example upload is written, /readyz and a predict request answer before it finishes', async () => {
  const served = await createTask(svc.app.app, 'served', intents(30));
  assert.equal((await train(svc.app.app, served, { head: 'svm' })).state, 'succeeded');
  const big = (await (await fetch(`${url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"big"}' })).json()) as {
    id: string;
  };
  upload.started = false;
  upload.finished = false;
  const body = Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ text: `example number ${i} of a large upload`, label: `label ${i % 50}` })).join(
    '\n',
  );
  const uploaded = fetch(`${url}/v1/tasks/${big.id}/examples`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
  while (!upload.started) await new Promise((r) => setTimeout(r, 1));

  const answered: string[] = [];
  const ready = fetch(`${url}/readyz`).then((r) => {
    answered.push(`readyz ${r.status} ${upload.finished ? 'after' : 'before'} the upload`);
  });
  const predicted = fetch(`${url}/v1/tasks/${served}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: 'Will it snow in Oslo tomorrow?' }),
  }).then((r) => {
    answered.push(`predict ${r.status} ${upload.finished ? 'after' : 'before'} the upload`);
  });
  await Promise.all([ready, predicted]);
  const done = await uploaded;
  const text = await done.text();
  assert.equal(done.status, 201, text);
  assert.equal((JSON.parse(text) as { inserted: number }).inserted, 200_000);
  assert.deepEqual(answered.sort(), ['predict 200 before the upload', 'readyz 200 before the upload']);
});
