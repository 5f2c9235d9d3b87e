/**
 * The test helpers' nginx never outlives its suite: a master killed alone
 * would leave its worker running and listening (it did, after every full
 * `npm test`), so the helpers stop the whole process group.
 */
import '../helpers/cleanup.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, startNginx, stopNginx } from '../helpers/nginx.js';
import { groupGone, groupMembers, killAll, leftovers } from '../helpers/process.js';

const answers = (url: string) =>
  fetch(`${url}/healthz`).then(
    () => true,
    () => false,
  );

test('the last-resort kill at the end of a test file takes nginx down with its workers', async () => {
  const nginx = await startNginx([await freePort()]);
  const group = nginx.proc.pid!;
  assert.ok(groupMembers(group).length >= 2, 'a master and at least one worker');
  assert.equal(await answers(nginx.url), true);
  killAll();
  assert.equal(await groupGone(group, 5000), true, `still alive: ${JSON.stringify(groupMembers(group))}`);
  assert.equal(await answers(nginx.url), false, 'nothing listens on its port');
  assert.deepEqual(leftovers(), []);
});

test('stopping nginx quits it gracefully: the master waits for its workers, and nothing is left', async () => {
  const nginx = await startNginx([await freePort()]);
  const group = nginx.proc.pid!;
  await stopNginx(nginx);
  assert.equal(nginx.proc.signalCode, null, 'the master exited by itself, not by a signal');
  assert.deepEqual(groupMembers(group), []);
  assert.equal(await answers(nginx.url), false);
  assert.deepEqual(leftovers(), []);
});
