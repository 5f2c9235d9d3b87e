/**
 * Memory under a cheap hostile upload: a gzip body of many small invalid
 * records, measured in a child process of its own (the real service, heap
 * sampled while the upload is read; test/helpers/upload-memory.ts).
 *
 * Before, every bad record kept an Error: 190,000 of them (1.5 MB of gzip)
 * grew the heap by ~93 MB, 1.5 million ran a 1 GB heap out. Now the bad
 * records are counted and only the first 20 kept: the growth measured is
 * ~17 MB, transient garbage of the parse, the same at 20,000 records.
 */
import '../helpers/cleanup.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Far below the old growth (~93 MB at this size), well above the new (~17 MB). */
const BOUND_MB = 40;

test('190,000 invalid records in 1.5 MB of gzip: a bounded error list, and the heap grows by less than 40 MB', { timeout: 180_000 }, async () => {
  const { stdout } = await run(process.execPath, ['--expose-gc', 'dist/test/helpers/upload-memory.js', '190000'], { maxBuffer: 1024 ** 2 });
  const m = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number | string>;
  assert.equal(m.status, 400, stdout);
  assert.equal(m.code, 'invalid_examples');
  assert.equal(m.listed, 20, 'the first 20 problems are described');
  assert.equal(m.more, 190_000 - 20, 'the rest are counted');
  assert.ok((m.growthMb as number) < BOUND_MB, `the heap grew by ${m.growthMb} MB while the upload was read (bound ${BOUND_MB} MB): ${stdout}`);
});
