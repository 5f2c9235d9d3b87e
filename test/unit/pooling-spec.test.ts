import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSpec, specDimensions, specKey } from '../../src/encoder/feature-spec.js';
import { DomainError } from '../../src/errors.js';
import { featureOf, l2normalize } from '../../src/encoder/pooling.js';

// Batch of 2 sequences padded to T=3, H=2. Sequence 0 has 2 real tokens, sequence 1 has 3.
const layerA = new Float32Array([1, 2, 3, 4, 99, 99, /* seq 1 */ 0, 0, 6, -6, 3, 3]);
const layerB = new Float32Array([10, 0, 0, 10, 99, 99, /* seq 1 */ 1, 1, 1, 1, 1, 1]);
const states = new Map([
  [0, layerA],
  [1, layerB],
]);

function pooled(specInput: Parameters<typeof resolveSpec>[0], b: number, length: number): number[] {
  const spec = resolveSpec(specInput, 1);
  const out = new Float32Array(specDimensions(spec, 2));
  featureOf(states, b * 3, 2, length, spec, out, 0);
  return Array.from(out);
}

test('mean pooling averages real tokens only; padding never leaks in', () => {
  assert.deepEqual(pooled({ model: 'm', layers: 0, normalize: false }, 0, 2), [2, 3]);
  assert.deepEqual(pooled({ model: 'm', layers: 0, normalize: false }, 1, 3), [3, -1]);
});

test('cls takes the first token; max takes the per-dimension maximum of real tokens', () => {
  assert.deepEqual(pooled({ model: 'm', layers: 0, pooling: 'cls', normalize: false }, 0, 2), [1, 2]);
  assert.deepEqual(pooled({ model: 'm', layers: 0, pooling: 'max', normalize: false }, 0, 2), [3, 4]);
  assert.deepEqual(pooled({ model: 'm', layers: 0, pooling: 'max', normalize: false }, 1, 3), [6, 3]);
});

test('layers combine by concatenation or by mean, then normalise', () => {
  assert.deepEqual(pooled({ model: 'm', layers: [0, 1], normalize: false }, 0, 2), [2, 3, 5, 5]);
  assert.deepEqual(pooled({ model: 'm', layers: [0, 1], layer_combine: 'mean', normalize: false }, 0, 2), [3.5, 4]);
  const v = pooled({ model: 'm', layers: [0, 1] }, 0, 2);
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-6);
  const zero = new Float32Array(3);
  l2normalize(zero);
  assert.deepEqual(Array.from(zero), [0, 0, 0]);
});

test('specs resolve negative layers, fill defaults and key equal specs equally', () => {
  const a = resolveSpec({ model: 'm', layers: -1 }, 6);
  const b = resolveSpec({ model: 'm', layers: [6], layer_combine: 'mean' }, 6);
  const c = resolveSpec({ model: 'm' }, 6);
  assert.deepEqual(a.layers, [6]);
  assert.equal(specKey(a), specKey(b));
  assert.equal(specKey(a), specKey(c));
  assert.equal(resolveSpec({ model: 'm', layers: -7 }, 6).layers[0], 0);
  assert.notEqual(specKey(resolveSpec({ model: 'm', layers: [5, 6] }, 6)), specKey(resolveSpec({ model: 'm', layers: [6, 5] }, 6)));
  assert.equal(specDimensions(resolveSpec({ model: 'm', layers: [4, 5, 6] }, 6), 384), 1152);
  assert.equal(specDimensions(resolveSpec({ model: 'm', layers: [4, 5, 6], layer_combine: 'mean' }, 6), 384), 384);
});

test('specs reject out-of-range, fractional, duplicate and empty layer lists', () => {
  for (const layers of [7, -8, 1.5, [3, 3], [-1, 6], []] as Array<number | number[]>) {
    assert.throws(
      () => resolveSpec({ model: 'm', layers }, 6),
      (e: unknown) => e instanceof DomainError && e.code === 'invalid_feature_spec' && e.param === 'layers',
      `layers ${JSON.stringify(layers)}`,
    );
  }
});
