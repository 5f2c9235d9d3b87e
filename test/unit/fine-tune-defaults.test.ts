/**
 * What a fine-tuning request leaves unset: the few-shot recipe on a
 * single-label task of 2 to FEW_SHOT_BELOW − 1 examples a label that trains
 * on its label descriptions too, the defaults everywhere else; what the
 * request sets stays as set.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskKind } from '../../src/lib/task-kind.js';
import type { TaskRecord } from '../../src/store/types.js';
import { DEFAULT_RECIPE, FEW_SHOT_BELOW, FEW_SHOT_RECIPE } from '../../src/training/fine-tune/index.js';
import { withRecipeDefaults } from '../../src/training/plan.js';
import { normalizeRequest, trainingRequestSchema } from '../../src/training/request.js';

const task = (kind: TaskKind, described: boolean) =>
  ({ kind, labels: ['a', 'b', 'c'].map((name) => ({ name, description: described ? `texts about ${name}` : null })) }) as unknown as TaskRecord;
const counts = (each: number) => new Map(['a', 'b', 'c'].map((l) => [l, each]));

/** The epochs and objective a job would run: the request as the route builds it. */
function resolved(body: object, t: TaskRecord, c: Map<string, number>) {
  const request = withRecipeDefaults(normalizeRequest(trainingRequestSchema.parse(body), t.kind), t, c);
  const params = (request.head as { params: Record<string, unknown> }).params;
  return [params.epochs, params.objective];
}

const fineTune = { head: { type: 'fine_tune', params: { layers: 2 } } };
const few = [FEW_SHOT_RECIPE.epochs, FEW_SHOT_RECIPE.objective];
const plain = [DEFAULT_RECIPE.epochs, DEFAULT_RECIPE.objective];

test('few examples a label with descriptions: the few-shot recipe', () => {
  assert.deepEqual(resolved(fineTune, task('single_label', true), counts(2)), few);
  assert.deepEqual(resolved(fineTune, task('single_label', true), counts(FEW_SHOT_BELOW - 1)), few);
});

test('elsewhere the defaults: enough examples, one a label, no descriptions, descriptions refused, multi-label', () => {
  assert.deepEqual(resolved(fineTune, task('single_label', true), counts(FEW_SHOT_BELOW)), plain);
  assert.deepEqual(resolved(fineTune, task('single_label', true), counts(1)), plain, 'one a label: nothing to contrast');
  assert.deepEqual(resolved(fineTune, task('single_label', false), counts(4)), plain, 'without descriptions nothing gained');
  assert.deepEqual(resolved({ ...fineTune, label_descriptions: false }, task('single_label', true), counts(4)), plain);
  assert.deepEqual(resolved(fineTune, task('multi_label', true), counts(4)), plain);
});

test('what the request sets stays as set, and other heads are untouched', () => {
  const set = { head: { type: 'fine_tune', params: { epochs: 2, objective: 'classification' } } };
  assert.deepEqual(resolved(set, task('single_label', true), counts(4)), [2, 'classification']);
  const epochsOnly = { head: { type: 'fine_tune', params: { epochs: 5 } } };
  assert.deepEqual(resolved(epochsOnly, task('single_label', true), counts(4)), [5, FEW_SHOT_RECIPE.objective]);
  const svc = normalizeRequest(trainingRequestSchema.parse({ head: 'svm' }));
  assert.equal(withRecipeDefaults(svc, task('single_label', true), counts(4)), svc);
});
