/**
 * Queue admission: the text bound always holds; the predicted wait follows
 * the observed cost of a text, weighted by run size; a request alone is
 * always taken; a refusal says when to retry.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueueAdmission } from '../../src/encoder/admission.js';

test('the text bound holds whatever the prediction says', () => {
  const a = new QueueAdmission({ maxQueuedTexts: 100, maxWaitMs: 0 });
  assert.deepEqual(a.admit(60, 40), { admitted: true });
  const refused = a.admit(61, 40);
  assert.equal(refused.admitted, false);
});

test('the predicted wait is the texts ahead times the recent cost of a text, weighted by run size', () => {
  const a = new QueueAdmission({ maxQueuedTexts: 1e6, maxWaitMs: 1000 });
  assert.equal(a.predictedWaitMs(500), 0, 'nothing observed yet: nothing predicted');
  a.observe(1, 5); // a lone text: 5 ms
  assert.equal(a.predictedWaitMs(10), 50);
  // Under load the encoder runs batches of 64 at 1 ms a text: they move the mean most of the way at once.
  for (let i = 0; i < 20; i++) a.observe(64, 64);
  assert.ok(Math.abs(a.predictedWaitMs(100) - 100) < 5, `${a.predictedWaitMs(100)}`);
  // One slow lone run barely moves a mean built on thousands of texts.
  a.observe(1, 50);
  assert.ok(a.predictedWaitMs(100) < 125, `${a.predictedWaitMs(100)}`);
});

test('a request is refused when its texts would wait too long, with the time until they would not', () => {
  const a = new QueueAdmission({ maxQueuedTexts: 1e6, maxWaitMs: 1000 });
  for (let i = 0; i < 10; i++) a.observe(50, 100); // 2 ms a text
  assert.deepEqual(a.admit(400, 50), { admitted: true }, '900 ms');
  const refused = a.admit(600, 50);
  assert.ok(!refused.admitted);
  if (!refused.admitted) {
    assert.ok(Math.abs(refused.retryAfterMs - 300) < 1, `${refused.retryAfterMs}`);
    assert.match(refused.reason, /would wait about 1300 ms/);
  }
});

test('a request alone in the queue is taken however long it would take', () => {
  const a = new QueueAdmission({ maxQueuedTexts: 1e6, maxWaitMs: 10 });
  a.observe(10, 100);
  assert.deepEqual(a.admit(0, 2048), { admitted: true });
  assert.equal(a.admit(1, 2048).admitted, false);
});
