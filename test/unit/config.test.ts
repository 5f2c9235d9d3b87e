import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENV, loadConfig } from '../../src/config.js';

test('defaults: port 8080, the bundled model, 2048 inputs', () => {
  const c = loadConfig({});
  assert.equal(c.PORT, 8080);
  assert.deepEqual(c.TRANSFERD_MODELS, ['all-MiniLM-L6-v2']);
  assert.equal(c.TRANSFERD_MAX_INPUTS, 2048);
  assert.equal(c.TRANSFERD_BODY_LIMIT, 10 * 1024 * 1024);
});

test('values parse: sizes with units, lists, booleans', () => {
  const c = loadConfig({ PORT: '9000', TRANSFERD_BODY_LIMIT: '512kb', TRANSFERD_MODELS: 'a, b', TRANSFERD_LOG_REQUESTS: 'true' });
  assert.equal(c.PORT, 9000);
  assert.equal(c.TRANSFERD_BODY_LIMIT, 512 * 1024);
  assert.deepEqual(c.TRANSFERD_MODELS, ['a', 'b']);
  assert.equal(c.TRANSFERD_LOG_REQUESTS, true);
});

test('every bad variable is named in one error', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty', TRANSFERD_MAX_INPUTS: '0', TRANSFERD_BODY_LIMIT: 'lots' }),
    (e: Error) => /PORT="eighty"/.test(e.message) && /TRANSFERD_MAX_INPUTS="0"/.test(e.message) && /TRANSFERD_BODY_LIMIT="lots"/.test(e.message),
  );
});

test('every variable is described in a sentence (the README renders its table from them: docs.test.ts)', () => {
  for (const [k, v] of Object.entries(ENV)) assert.match(v.doc, /^[A-Z].*\.$/, k);
});
