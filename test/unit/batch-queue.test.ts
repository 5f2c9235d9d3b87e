import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchQueue } from '../../src/encoder/batch-queue.js';

const seq = (id: string, length: number) => ({ id, length });

test('a batch fits the padded-token budget and comes out shortest first', () => {
  const q = new BatchQueue<{ id: string; length: number }>({ maxTokens: 100, maxSize: 64 });
  for (const [i, len] of [30, 5, 10, 40, 8].entries()) q.push(seq(`s${i}`, len), 'interactive');
  const batch = q.next();
  const lengths = batch.map((s) => s.length);
  assert.deepEqual(
    lengths,
    [...lengths].sort((a, b) => a - b),
  );
  assert.ok(batch.length * Math.max(...lengths) <= 100, `padded cost ${batch.length}×${Math.max(...lengths)} over budget`);
  assert.ok(
    batch.some((s) => s.id === 's0'),
    'the oldest sequence is always in the batch',
  );
  const rest = [...q.drain(), ...batch].map((s) => s.id).sort();
  assert.deepEqual(rest, ['s0', 's1', 's2', 's3', 's4'], 'nothing is lost or duplicated');
});

test('interactive sequences go before bulk ones', () => {
  const q = new BatchQueue<{ id: string; length: number }>({ maxTokens: 1000, maxSize: 2 });
  q.push(seq('b1', 5), 'bulk');
  q.push(seq('b2', 5), 'bulk');
  q.push(seq('i1', 5), 'interactive');
  assert.deepEqual(
    q.next().map((s) => s.id),
    ['i1'],
  );
  assert.deepEqual(
    q.next().map((s) => s.id),
    ['b1', 'b2'],
  );
  assert.equal(q.size, 0);
});

test('the batch size cap holds and a long old sequence is not starved by a stream of short ones', () => {
  const q = new BatchQueue<{ id: string; length: number }>({ maxTokens: 64, maxSize: 4 });
  q.push(seq('long', 60), 'interactive');
  let served = false;
  for (let round = 0; round < 3 && !served; round++) {
    for (let i = 0; i < 8; i++) q.push(seq(`short${round}-${i}`, 4), 'interactive');
    const batch = q.next();
    assert.ok(batch.length <= 4);
    served = batch.some((s) => s.id === 'long');
  }
  assert.ok(served, 'the oldest sequence went in the first batch');
});

test('a single sequence longer than the budget still runs alone', () => {
  const q = new BatchQueue<{ id: string; length: number }>({ maxTokens: 10, maxSize: 8 });
  q.push(seq('big', 50), 'interactive');
  q.push(seq('small', 2), 'interactive');
  assert.deepEqual(
    q.next().map((s) => s.id),
    ['big'],
  );
  assert.deepEqual(
    q.next().map((s) => s.id),
    ['small'],
  );
});

test('many thousands of bulk sequences drain completely in budgeted batches with little padding', () => {
  const q = new BatchQueue<{ id: string; length: number }>({ maxTokens: 2048, maxSize: 64 });
  const n = 20_000;
  let tokens = 0;
  for (let i = 0; i < n; i++) {
    const length = 3 + ((i * 7919) % 120);
    tokens += length;
    q.push(seq(String(i), length), 'bulk');
  }
  const seen = new Set<string>();
  let batches = 0;
  let padded = 0;
  for (let b = q.next(); b.length; b = q.next()) {
    batches++;
    padded += b.length * b[b.length - 1]!.length;
    assert.ok(b.length * b[b.length - 1]!.length <= 2048 || b.length === 1);
    for (const s of b) seen.add(s.id);
  }
  assert.equal(seen.size, n);
  assert.ok(batches < n / 4, `${batches} batches for ${n} sequences: batching is not coalescing`);
  assert.ok(padded < tokens * 1.15, `${padded} padded tokens for ${tokens} real ones`);
});

test('a window of mixed lengths is split by length rather than padded to the longest', () => {
  const q = new BatchQueue<{ id: string; length: number }>({ maxTokens: 100_000, maxSize: 64 });
  // The oldest is short; eight short and eight long sequences wait.
  for (let i = 0; i < 8; i++) q.push(seq(`short${i}`, 10), 'interactive');
  for (let i = 0; i < 8; i++) q.push(seq(`long${i}`, 200), 'interactive');
  assert.deepEqual(
    q.next().map((s) => s.length),
    Array(8).fill(10),
    'short ones run together, unpadded',
  );
  assert.deepEqual(
    q.next().map((s) => s.length),
    Array(8).fill(200),
  );
  // Similar lengths still share one run: splitting would cost more runs than it saves padding.
  for (const len of [10, 11, 12, 12, 13]) q.push(seq(`s${len}`, len), 'interactive');
  assert.equal(q.next().length, 5);
});

test('packed: the batch is the oldest sequences within the token budget, in arrival order', () => {
  const q = new BatchQueue<{ id: string; length: number }>({ maxTokens: 50, maxSize: 4, packed: true });
  for (const [i, len] of [30, 5, 10, 40, 8, 2].entries()) q.push(seq(`s${i}`, len), 'interactive');
  assert.deepEqual(
    q.next().map((s) => s.id),
    ['s0', 's1', 's2'],
  );
  assert.deepEqual(
    q.next().map((s) => s.id),
    ['s3', 's4', 's5'],
  );
  q.push(seq('long', 80), 'interactive');
  q.push(seq('short', 1), 'interactive');
  assert.deepEqual(
    q.next().map((s) => s.id),
    ['long'],
    'an over-long sequence runs alone',
  );
  assert.deepEqual(
    q.next().map((s) => s.id),
    ['short'],
  );
});
