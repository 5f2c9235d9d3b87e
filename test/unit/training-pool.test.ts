/**
 * The job-wide training pool: a head op that throws rejects with its message
 * only (the message can end up in a job's recorded error and so in an API
 * response); the stack stays on the error for the logs, and the worker stays
 * usable. Unknown heads and ops are refused by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedDataset } from '../../src/heads/dataset.js';
import { TrainingPool } from '../../src/training/pool/pool.js';

test('a failing op rejects with its message, no stack trace in it; the worker stays usable', async () => {
  const pool = new TrainingPool(1);
  try {
    const data = sharedDataset({ x: new Float32Array(8), y: new Int32Array([0, 1, 0, 1]), n: 4, dim: 2, classes: 2 });
    const err = await pool.run('random_forest', 'trees', { data, train: null, params: null, from: 0, to: 1, test: null }).then(
      () => assert.fail('the op should fail'),
      (e: Error) => e,
    );
    assert.match(err.message, /^Cannot read properties of null/);
    assert.doesNotMatch(err.message, /\n\s+at /, 'no stack frames in the message');
    assert.match(err.stack ?? '', /train\.js/, 'the worker-side stack is kept for the logs');
    const kernel = { kernel: 'linear', gamma: 1, degree: 3, coef0: 0 };
    const ok = await pool.run('svm', 'kernel-rows', {
      gram: new Float32Array(1),
      out: new Float32Array(1),
      n: 1,
      sq: new Float64Array(1),
      kernel,
      from: 0,
      to: 1,
    });
    assert.equal(ok.result, null);
    await assert.rejects(pool.run('no_such_head', 'x', {}), /unknown head type no_such_head/);
    await assert.rejects(pool.run('svm', 'no_such_op', {}), /head svm has no op no_such_op/);
  } finally {
    await pool.close();
  }
  await assert.rejects(pool.run('svm', 'kernel-rows', {}), /closed/);
});

test('once the job is cancelled, queued and new tasks are refused; the job stops after the tasks running now', async () => {
  let cancelled = false;
  const pool = new TrainingPool(1, () => cancelled);
  try {
    const kernel = { kernel: 'linear', gamma: 1, degree: 3, coef0: 0 };
    const task = () =>
      pool.run('svm', 'kernel-rows', { gram: new Float32Array(1), out: new Float32Array(1), n: 1, sq: new Float64Array(1), kernel, from: 0, to: 1 });
    const running = task();
    const queued = task(); // one worker: waits behind the first
    cancelled = true;
    assert.equal((await running).result, null, 'the task already running finishes');
    await assert.rejects(queued, (e: Error & { code?: string }) => e.code === 'cancelled');
    await assert.rejects(task(), (e: Error & { code?: string }) => e.code === 'cancelled');
  } finally {
    await pool.close();
  }
});
