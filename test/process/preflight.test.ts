/**
 * `npm test` checks what it needs outside Node before running anything: a
 * missing tool is one line saying what is missing and how to get it, at once,
 * instead of a spawn error half-way through the suite.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { findChromium, findNginx } from '../helpers/tools.js';

const preflight = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['dist/test/preflight.js'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });

test('with everything in place the preflight passes silently', () => {
  const r = preflight({});
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

for (const [variable, tool, name] of [
  ['NGINX', 'nginx', 'an nginx'],
  ['CHROMIUM', 'chromium', 'a Chromium'],
] as const) {
  test(`${name} that is not there fails the preflight at once with one line saying how to get it`, () => {
    const r = preflight({ [variable]: `/nonexistent/${tool}` });
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^npm test: ${variable}=/nonexistent/${tool} is not an executable file`));
  });
}

test('an unreachable PostgreSQL fails the preflight with one line naming the variable to set', () => {
  const r = preflight({ TRANSFERD_TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/test does not answer .*TRANSFERD_TEST_DATABASE_URL/);
});

test('nginx is looked for on PATH and in /usr/sbin; $NGINX, when set, is the only one tried', () => {
  assert.deepEqual(findNginx({ NGINX: '/nonexistent/nginx', PATH: '/usr/sbin' }), { path: '/nonexistent/nginx', found: false });
  assert.equal(findNginx({ PATH: '/nonexistent' }).path, '/usr/sbin/nginx');
});

test("Chromium is Debian's /usr/bin/chromium unless $CHROMIUM names another", () => {
  assert.deepEqual(findChromium({ CHROMIUM: '/nonexistent/chromium', PATH: '/usr/bin' }), { path: '/nonexistent/chromium', found: false });
  assert.equal(findChromium({ PATH: '/nonexistent' }).path, '/usr/bin/chromium');
});
