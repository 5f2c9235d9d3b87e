/**
 * The labelling page's pure pieces: which key labels what (1–9, then the
 * letters not kept for skipping and undoing), when a key press is typing
 * rather than labelling, the buttons' order, the queue of suggestions, and a
 * retrained version's score beside the last.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Suggestion, Version, VersionSummary } from '../../console/src/api/responses.js';
import { isTyping, keyAction, LABEL_KEYS, labelKeys, ownsKey, SKIP_KEYS, UNDO_KEYS } from '../../console/src/label-keys.js';
import { buttonLabels, extendOrder, poolLines, refilled, retrainComparison, suggestionCount } from '../../console/src/label-session.js';

const labels = (n: number) => Array.from({ length: n }, (_, i) => `label ${i}`);

test('label keys: 1–9, then a–z without the skip and undo keys; labels beyond have none', () => {
  const six = labelKeys(['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM']);
  assert.deepEqual([...six.values()], ['1', '2', '3', '4', '5', '6']);
  const many = labelKeys(labels(40));
  assert.equal(many.size, 33, '9 digits and 24 letters');
  assert.equal(many.get('label 8'), '9');
  assert.equal(many.get('label 9'), 'a');
  assert.equal(many.get('label 26'), 'r');
  assert.equal(many.get('label 27'), 't', 's skips');
  assert.equal(many.get('label 28'), 'v', 'u undoes');
  assert.equal(many.get('label 32'), 'z');
  assert.equal(many.get('label 33'), undefined);
  const given = [...many.values()];
  assert.equal(new Set(given).size, given.length, 'no two labels share a key');
  for (const k of [...SKIP_KEYS, ...UNDO_KEYS, 'Enter']) assert.ok(!LABEL_KEYS.includes(k), `${JSON.stringify(k)} is kept`);
});

test('key presses: a label, skip, undo or submit; with Ctrl, Alt or Meta, or unassigned, none', () => {
  const keys = labelKeys(labels(12));
  assert.deepEqual(keyAction({ key: '3' }, keys), { kind: 'label', label: 'label 2' });
  assert.deepEqual(keyAction({ key: 'b' }, keys), { kind: 'label', label: 'label 10' });
  assert.deepEqual(keyAction({ key: 'B' }, keys), { kind: 'label', label: 'label 10' }, 'Shift or caps lock still means the letter');
  assert.deepEqual(keyAction({ key: 's' }, keys), { kind: 'skip' });
  assert.deepEqual(keyAction({ key: ' ' }, keys), { kind: 'skip' });
  assert.deepEqual(keyAction({ key: 'u' }, keys), { kind: 'undo' });
  assert.deepEqual(keyAction({ key: 'Backspace' }, keys), { kind: 'undo' });
  assert.deepEqual(keyAction({ key: 'Enter' }, keys), { kind: 'submit' });
  assert.equal(keyAction({ key: 'd' }, keys), null, 'label 12 would have it: there are 12 labels');
  assert.equal(keyAction({ key: '1', ctrlKey: true }, keys), null);
  assert.equal(keyAction({ key: 'u', metaKey: true }, keys), null);
  assert.equal(keyAction({ key: 's', altKey: true }, keys), null);
  assert.equal(keyAction({ key: 'ArrowDown' }, keys), null);
});

test('typing: text fields, text areas, lists and editable elements keep their keys; checkboxes and buttons do not', () => {
  assert.equal(isTyping({ tagName: 'INPUT', type: 'text' }), true);
  assert.equal(isTyping({ tagName: 'input' }), true, 'an input without a type is a text field');
  assert.equal(isTyping({ tagName: 'INPUT', type: 'number' }), true);
  assert.equal(isTyping({ tagName: 'TEXTAREA' }), true);
  assert.equal(isTyping({ tagName: 'SELECT' }), true);
  assert.equal(isTyping({ tagName: 'DIV', isContentEditable: true }), true);
  assert.equal(isTyping({ tagName: 'INPUT', type: 'checkbox' }), false);
  assert.equal(isTyping({ tagName: 'BUTTON' }), false);
  assert.equal(isTyping({ tagName: 'BODY', isContentEditable: false }), false);
  assert.equal(isTyping(null), false);
  // Space and Enter press a focused button or link; its other keys are the page's.
  assert.equal(ownsKey({ tagName: 'BUTTON' }, ' '), true);
  assert.equal(ownsKey({ tagName: 'A' }, 'Enter'), true);
  assert.equal(ownsKey({ tagName: 'BUTTON' }, '1'), false);
  assert.equal(ownsKey({ tagName: 'BODY' }, ' '), false);
  assert.equal(ownsKey({ tagName: 'TEXTAREA' }, 's'), true);
  assert.equal(ownsKey(null, 'u'), false);
});

test("buttons: declared labels as declared, then the examples', then the head's; an order keeps its keys as labels come", () => {
  const task = {
    labels: [
      { name: 'b', description: 'B' },
      { name: 'a', description: null },
    ],
    label_counts: { z: 3, a: 2, c: 1 },
  };
  assert.deepEqual(buttonLabels(task, ['y', 'b', 'x']), ['b', 'a', 'c', 'z', 'x', 'y']);
  assert.deepEqual(buttonLabels({ labels: [] }, ['n', 'm']), ['m', 'n']);
  const order = ['b', 'a', 'c'];
  assert.equal(extendOrder(order, ['a', 'b', 'c']), order, 'unchanged: the same array');
  assert.deepEqual(extendOrder(order, ['a', 'aa', 'b', 'c']), ['b', 'a', 'c', 'aa'], 'a new label goes last, the others keep their keys');
  assert.deepEqual(extendOrder(order, ['a']), order, 'a label gone keeps its place');
});

const suggestion = (pool_id: number): Suggestion => ({
  pool_id,
  text: `text ${pool_id}`,
  uncertainty: 0.5,
  similarity: 0,
  typicality: null,
  prediction: { index: 0, label: 'a', score: 0.6, probabilities: { a: 0.6, b: 0.4 } },
});

test('the queue: the shown text stays first, fresh suggestions follow without what was labelled, skipped or shown', () => {
  const shown = suggestion(4);
  const fresh = [5, 4, 1, 7, 2].map(suggestion);
  assert.deepEqual(
    refilled(shown, fresh, new Set([1, 2])).map((s) => s.pool_id),
    [4, 5, 7],
  );
  assert.equal(refilled(shown, fresh, new Set())[0], shown, 'the very object shown, not the fresh copy');
  assert.deepEqual(
    refilled(undefined, fresh, new Set([7])).map((s) => s.pool_id),
    [5, 4, 1, 2],
  );
  assert.equal(suggestionCount(10, 3, 100), 13, 'a batch beyond the skipped and the shown');
  assert.equal(suggestionCount(10, 3, 8), 8, 'never more than the pool holds');
  assert.equal(suggestionCount(10, 0, 0), 0);
});

test('the pool box: one text a line, trimmed, blank lines left out', () => {
  assert.deepEqual(poolLines('  What is a cat ?\r\n\n  \nWho wrote Hamlet ?  \n'), ['What is a cat ?', 'Who wrote Hamlet ?']);
  assert.deepEqual(poolLines(''), []);
});

const summary = (version: number, accuracy: number | null): VersionSummary =>
  ({
    version,
    metrics: accuracy === null ? { method: 'none', reason: 'no evaluation' } : { accuracy, macro_f1: accuracy, method: 'cv' },
  }) as VersionSummary;

test("a retrained version beside the last: the job's own comparison on the same rows, else the latest earlier score", () => {
  const compared = {
    version: 3,
    metrics: { accuracy: 0.9, macro_f1: 0.9, method: 'cv' },
    report: {
      activation: {
        rule: 'r',
        decision: 'kept',
        reason: 'version 0 did as well or better on the same 20 examples',
        compared: { rows: 20, metric: 'accuracy', new: 0.55, active: { version: 0, score: 0.6 } },
      },
    },
  } as unknown as Version;
  assert.deepEqual(retrainComparison(compared, [summary(1, 0.5), summary(2, 0.7)]), {
    version: 3,
    score: 0.55,
    previous: { version: 0, score: 0.6 },
    rows: 20,
    decision: 'kept',
    reason: 'version 0 did as well or better on the same 20 examples',
  });

  const uncompared = {
    version: 3,
    metrics: { accuracy: 0.8, macro_f1: 0.75, method: 'cv' },
    report: { activation: { rule: 'r', decision: 'activated', reason: 'the request said activate: true' } },
  } as unknown as Version;
  const c = retrainComparison(uncompared, [summary(1, 0.5), summary(2, null), summary(3, 0.8), summary(4, 0.95)]);
  assert.deepEqual([c.score, c.previous, c.rows, c.decision], [0.8, { version: 1, score: 0.5 }, null, 'activated'], 'version 2 has no score; 4 came after');

  const unscored = { version: 2, metrics: { method: 'none', reason: '1 example' }, report: {} } as unknown as Version;
  assert.deepEqual(retrainComparison(unscored, [summary(1, 0.5)]), {
    version: 2,
    score: null,
    previous: null,
    rows: null,
    decision: null,
    reason: '1 example',
  });
});
