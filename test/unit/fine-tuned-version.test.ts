/**
 * What a fine-tuning run makes of a version (fineTunedParts): the head type,
 * the spec its features are computed under, the artifact (the classifier,
 * or its multi-label wrapper, tied to the tuned layers) that loadPredictor
 * loads as the classifier, and the stack as the store keeps it; and the
 * tuned spec's cache key, which names the version.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { specKey, specToJson } from '../../src/encoder/feature-spec.js';
import { decodeTunedStack, type TunedStack } from '../../src/encoder/tuned-stack.js';
import type { LogisticArtifact } from '../../src/heads/logistic/model.js';
import { LogisticPredictor } from '../../src/heads/logistic/model.js';
import { loadPredictor } from '../../src/heads/registry.js';
import { fineTunedParts } from '../../src/training/fine-tuned-version.js';

/** A stand-in stack: the parts read its layers and model, and store its tensors as they are. */
const stack: TunedStack = {
  model: { name: 'all-MiniLM-L6-v2', sourceSha256: 'abc' },
  first: 4,
  last: 5,
  tensors: new Map([['encoder.layer.5.output.LayerNorm.bias', { shape: [3], data: Float32Array.from([0.5, -1, 2]) }]]),
};
const classifier = (output?: 'sigmoid'): LogisticArtifact => ({
  format: 'softmax-linear',
  classes: 3,
  dim: 2,
  weights: [1, 0, 0, 1, -1, -1],
  bias: [0, 0.5, 0],
  ...(output ? { output } : {}),
});
const x = Float32Array.from([0.3, -0.2, 1.5, 0.7]);

test('a single-label run: head type fine_tune, the last layer mean-pooled and not normalised, the classifier as predictor', () => {
  const parts = fineTunedParts({ stack, classifier: classifier() });
  assert.equal(parts.headType, 'fine_tune');
  assert.deepEqual(parts.spec, { model: 'all-MiniLM-L6-v2', layers: [6], layerCombine: 'concat', pooling: 'mean', normalize: false });
  assert.deepEqual(
    { ...(parts.artifact as object), head: undefined },
    { format: 'fine-tuned', model: 'all-MiniLM-L6-v2', first: 4, last: 5, pooling: 'mean', head: undefined },
  );
  const predictor = loadPredictor(parts.artifact);
  assert.deepEqual(predictor.predictProba(x, 2), new LogisticPredictor(classifier()).predictProba(x, 2));
  assert.equal(predictor.thresholds, undefined);
  const stored = parts.tunedStack!;
  assert.deepEqual([stored.first, stored.last, stored.loadedBytes], [4, 5, 12]);
  assert.deepEqual(decodeTunedStack(stored.bytes).tensors, stack.tensors);
});

test('a multi-label run: the classifier in its multi-label wrapper, thresholds and all; thresholds go with sigmoid outputs only', () => {
  const thresholds = Float32Array.from([0.5, 0.25, 0.75]);
  const parts = fineTunedParts({ stack, classifier: classifier('sigmoid') }, thresholds);
  const predictor = loadPredictor(parts.artifact);
  assert.deepEqual(predictor.thresholds, thresholds);
  assert.deepEqual(predictor.predictProba(x, 2), new LogisticPredictor(classifier('sigmoid')).predictProba(x, 2));
  assert.throws(() => fineTunedParts({ stack, classifier: classifier('sigmoid') }), /thresholds/);
  assert.throws(() => fineTunedParts({ stack, classifier: classifier() }, thresholds), /thresholds/);
});

test("a tuned spec's cache key names its version; the API shows where its layers start, not the version's id", () => {
  const spec = fineTunedParts({ stack, classifier: classifier() }).spec;
  const [a, b] = [
    { ...spec, tuned: { version: 'ver_a', first: 4 } },
    { ...spec, tuned: { version: 'ver_b', first: 4 } },
  ];
  assert.notEqual(specKey(a), specKey(b));
  assert.notEqual(specKey(a), specKey(spec));
  assert.match(specKey(a), /ver_a/);
  assert.deepEqual(specToJson(a).tuned, { first_layer: 4 });
  assert.equal(specToJson(spec).tuned, undefined);
});
