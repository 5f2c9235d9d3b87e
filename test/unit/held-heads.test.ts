/** The rule by which a predict worker keeps heads, and by which the pool tracks what each worker keeps. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeldHeads } from '../../src/lib/held-heads.js';

test('heads are kept most recently used first, within a count and a size; the newest stays however large', () => {
  const held = new HeldHeads({ count: 3, bytes: 100 });
  assert.deepEqual(held.use('a', 40), []);
  assert.deepEqual(held.use('b', 40), []);
  assert.deepEqual(held.use('a', 40), [], 'a use makes a head the most recent');
  assert.deepEqual(held.use('c', 40), ['b'], 'over 100 bytes: the least recently used goes');
  assert.deepEqual(held.ids(), ['a', 'c']);
  assert.deepEqual(held.use('d', 10), []);
  assert.deepEqual(held.use('e', 10), ['a'], 'over 3 heads');
  assert.deepEqual(held.use('huge', 500), ['c', 'd', 'e'], 'a head over the size alone pushes out every other');
  assert.deepEqual(held.ids(), ['huge']);
  assert.equal(held.bytes, 500);
  assert.equal(held.delete('huge'), true);
  assert.equal(held.bytes, 0);
});

test('a head used again keeps the size it was loaded with', () => {
  const held = new HeldHeads({ count: 10, bytes: 100 });
  held.use('a', 60);
  held.use('a', 0); // the worker touches a head it holds without knowing its size again
  assert.equal(held.bytes, 60);
  assert.deepEqual(held.use('b', 50), ['a']);
});
