/**
 * The job-wide head pool: a task that throws rejects with its message only
 * (the message can end up in a job's recorded error and so in an API
 * response); the stack stays on the error for the logs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeadPool, sharedDataset } from '../../src/heads/pool/pool.js';
import type { ResolvedForestParams } from '../../src/heads/forest/params.js';

test('a failing task rejects with its message, no stack trace in it; the worker stays usable', async () => {
  const pool = new HeadPool(1);
  try {
    const data = sharedDataset({ x: new Float32Array(8), y: new Int32Array([0, 1, 0, 1]), n: 4, dim: 2, classes: 2 });
    const broken = { kind: 'forest-trees', data, train: null, params: null as unknown as ResolvedForestParams, from: 0, to: 1, test: null } as const;
    const err = await pool.run(broken).then(
      () => assert.fail('the task should fail'),
      (e: Error) => e,
    );
    assert.match(err.message, /^head pool worker: Cannot read properties of null/);
    assert.doesNotMatch(err.message, /\n\s+at /, 'no stack frames in the message');
    assert.match(err.stack ?? '', /tasks\.js/, 'the worker-side stack is kept for the logs');
    const ok = await pool.run({
      kind: 'kernel-rows',
      gram: new Float32Array(1),
      out: new Float32Array(1),
      n: 1,
      sq: new Float64Array(1),
      kernel: { kernel: 'linear', gamma: 1, degree: 3, coef0: 0 },
      from: 0,
      to: 1,
    });
    assert.equal(ok.result, null);
  } finally {
    await pool.close();
  }
});
