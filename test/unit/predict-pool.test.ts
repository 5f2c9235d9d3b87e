/**
 * The predict pool: a large batch is split over the workers and comes back in
 * order, equal to one predictor's output; small batches stay whole.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadSvmPredictor, svmArtifact } from '../../src/heads/svm/artifact.js';
import { trainSvmHere } from '../helpers/svm.js';
import { isDomainError } from '../../src/errors.js';
import { PredictPool } from '../../src/serving/predict-pool.js';

/** Three noisy clusters in 8 dimensions; deterministic. */
function blobs(n: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 8);
  const y = new Int32Array(n);
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed / 2 ** 31) * 2 - 1;
  };
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let d = 0; d < 8; d++) x[i * 8 + d] = (d % 3 === y[i] ? 1 : 0) + 0.8 * rand();
  }
  return { x, y };
}

test('a batch larger than one part is split over the workers and equals a single predictor row for row', async () => {
  const train = blobs(300);
  const { model } = trainSvmHere({ ...train, n: 300, dim: 8, classes: 3 }, { kernel: 'rbf', C: 1, probability: true });
  const artifact = svmArtifact(model, 3);
  const bytes = gzipSync(JSON.stringify(artifact));
  const reference = loadSvmPredictor(artifact, { threads: 1 });
  const pool = new PredictPool({ threads: 2, maxPredictors: 4 });
  try {
    let reads = 0;
    const read = async () => {
      reads++;
      return bytes;
    };
    for (const n of [1, 127, 256, 1001]) {
      const { x } = blobs(n);
      const got = await pool.predict('v1', read, x, n);
      assert.deepEqual([...got], [...reference.predictProba(x, n)], `${n} rows`);
    }
    // Each worker read the artifact once (the first when one row came, the second when 256 were split) and kept it.
    assert.equal(reads, 2);
  } finally {
    await pool.close();
  }
});

test('what each worker is believed to hold stays within what it keeps, however many versions pass; an evicted version is loaded again', async () => {
  const train = blobs(90);
  const { model } = trainSvmHere({ ...train, n: 90, dim: 8, classes: 3 }, { kernel: 'linear', C: 1, probability: true });
  const artifact = svmArtifact(model, 3);
  const bytes = gzipSync(JSON.stringify(artifact));
  const expected = [...loadSvmPredictor(artifact, { threads: 1 }).predictProba(blobs(4).x, 4)];
  const pool = new PredictPool({ threads: 2, maxPredictors: 3 });
  try {
    const reads = new Map<string, number>();
    const read = (id: string) => async () => {
      reads.set(id, (reads.get(id) ?? 0) + 1);
      return bytes;
    };
    for (let v = 0; v < 40; v++) {
      const got = await pool.predict(`v${v}`, read(`v${v}`), blobs(4).x, 4);
      assert.deepEqual([...got], expected);
      for (const held of pool.held()) assert.ok(held.length <= 3, `a worker believed to hold ${held.length} versions`);
    }
    assert.ok(!pool.held().flat().includes('v0'), 'the oldest version was pushed out');
    assert.deepEqual([...(await pool.predict('v0', read('v0'), blobs(4).x, 4))], expected);
    assert.equal(reads.get('v0'), 2, 'its artifact was read again, as the worker no longer had it');
    pool.forget(['v0']);
    assert.ok(!pool.held().flat().includes('v0'), 'a deleted version is held nowhere');
  } finally {
    await pool.close();
  }
});

test('what a worker keeps is bounded by the size of its heads too', async () => {
  const train = blobs(90);
  const { model } = trainSvmHere({ ...train, n: 90, dim: 8, classes: 3 }, { kernel: 'linear', C: 1, probability: true });
  const bytes = gzipSync(JSON.stringify(svmArtifact(model, 3)));
  const pool = new PredictPool({ threads: 1, maxPredictors: 32, maxPredictorBytes: 2500 });
  try {
    for (let v = 0; v < 10; v++) await pool.predict(`v${v}`, async () => bytes, blobs(2).x, 2, 1000);
    assert.deepEqual(pool.held(), [['v8', 'v9']], 'two heads of 1,000 bytes fit in 2,500');
  } finally {
    await pool.close();
  }
});

test('a burst over what the workers can do in time is refused as overloaded, with when to retry; an idle pool takes any call', async () => {
  const train = blobs(300);
  const { model } = trainSvmHere({ ...train, n: 300, dim: 8, classes: 3 }, { kernel: 'rbf', C: 1, probability: true });
  const bytes = gzipSync(JSON.stringify(svmArtifact(model, 3)));
  const pool = new PredictPool({ threads: 2, maxPredictors: 4, maxWaitMs: 1 });
  try {
    const { x } = blobs(1000);
    await pool.predict('v', async () => bytes, x, 1000); // alone: taken, and the head's cost per row is learnt
    const burst = await Promise.allSettled(Array.from({ length: 20 }, () => pool.predict('v', async () => bytes, x, 1000)));
    const refused = burst.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    assert.ok(
      burst.some((r) => r.status === 'fulfilled'),
      'the first of the burst is taken',
    );
    assert.ok(refused.length >= 10, `${refused.length} of 20 refused`);
    for (const e of refused) assert.ok(isDomainError(e, 'overloaded') && (e.retryAfterSeconds ?? 0) >= 1);
    assert.equal((await pool.predict('v', async () => bytes, x, 1000)).length, 3000, 'once the burst is done, a call is taken again');
  } finally {
    await pool.close();
  }
});
