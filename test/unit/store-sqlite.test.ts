import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Transaction } from '../../src/store/adapter.js';
import { SqliteAdapter, SqliteStore } from '../../src/store/sqlite.js';
import { Turns } from '../../src/store/turns.js';
import { storeContract } from '../helpers/store-contract.js';
import { upgradeContract } from '../helpers/store-upgrade.js';

const tempFile = () => join(mkdtempSync(join(tmpdir(), 'store-')), 'transferd.db');

storeContract('sqlite', async () => {
  const store = new SqliteStore({ path: tempFile(), maxLabels: 50 });
  await store.migrate();
  return store;
});

upgradeContract('sqlite', () => {
  const path = tempFile();
  return {
    adapter: async () => new SqliteAdapter(path),
    store: async () => {
      const store = new SqliteStore({ path, maxLabels: 50 });
      await store.migrate();
      return store;
    },
  };
});

async function adapter(): Promise<SqliteAdapter> {
  const db = new SqliteAdapter(tempFile());
  await db.exec('CREATE TABLE t (x TEXT)');
  return db;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('sqlite adapter: writes outside a transaction wait until it ends, and are not rolled back with it; reads see the last commit at once', async () => {
  const db = await adapter();
  const seen: string[] = [];
  const failing = db.transaction(async (tx) => {
    await tx.run(`INSERT INTO t VALUES ('inside')`);
    await sleep(30); // the event loop serves other requests meanwhile
    seen.push('transaction ends');
    throw new Error('rolled back');
  });
  const write = db.run(`INSERT INTO t VALUES ('outside')`).then(() => seen.push('outside write'));
  const read = db.query('SELECT x FROM t').then((rows) => seen.push(`read [${rows.map((r) => r.x).join()}]`));
  const ping = db.ping().then(() => seen.push('ping'));
  await assert.rejects(failing, /rolled back/);
  await Promise.all([write, read, ping]);
  assert.deepEqual(seen, ['read []', 'ping', 'transaction ends', 'outside write'], 'the read and the ping did not wait; the read saw nothing uncommitted');
  assert.deepEqual(await db.query('SELECT x FROM t'), [{ x: 'outside' }]);
  await db.close();
});

test('sqlite adapter: a long transaction hands the event loop back between its statements', async () => {
  const db = await adapter();
  let timerFired = false;
  setTimeout(() => {
    timerFired = true;
  }, 0);
  const firedDuring = await db.transaction(async (tx) => {
    // Bounded: without breaks the loop would run all 50,000 statements and never see the timer.
    for (let i = 0; i < 50_000 && !timerFired; i++) await tx.run('INSERT INTO t VALUES (?)', [`row ${i}`]);
    return timerFired;
  });
  assert.equal(firedDuring, true, 'a timer due meanwhile ran before the transaction ended');
  await db.close();
});

test('sqlite adapter: transactions at the same moment run one after the other, first come first served', async () => {
  const db = await adapter();
  const counts: Array<[string, number]> = [];
  const writer = (name: string) =>
    db.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (?)', [name]);
      await sleep(10);
      const [row] = await tx.query('SELECT COUNT(*) AS n FROM t');
      counts.push([name, Number(row!.n)]);
    });
  await Promise.all([writer('a'), writer('b'), writer('c')]);
  assert.deepEqual(counts, [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ]);
  await db.close();
});

test('sqlite adapter: a transaction handle kept past its transaction refuses statements; changes are announced after commit only', async () => {
  const db = await adapter();
  const heard: string[] = [];
  await db.listen((change) => change.kind === 'activated' && heard.push(change.taskId));
  let kept: Transaction | undefined;
  await db.transaction(async (tx) => {
    kept = tx;
    await tx.notify({ kind: 'activated', clientId: 'default', taskId: 'committed', activeVersion: 1 });
    assert.deepEqual(heard, [], 'not before the commit');
  });
  await assert.rejects(kept!.query('SELECT 1'), /transaction that has ended/);
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.notify({ kind: 'activated', clientId: 'default', taskId: 'rolled-back', activeVersion: 1 });
      throw new Error('no');
    }),
    /no/,
  );
  assert.deepEqual(heard, ['committed']);
  await db.close();
});

test('sqlite adapter: a table parameter passes texts, numbers and blobs through as they are', async () => {
  const db = await adapter();
  const u = db.dialect.rows('u', {
    t: { type: 'text', values: ['a', "it's ?", ''] },
    n: { type: 'integer', values: [1, -2, 2 ** 40] },
    b: { type: 'bytes', values: [Buffer.from([0, 255]), Buffer.alloc(0), Buffer.from('x')] },
  });
  const rows = await db.query(`SELECT u.t, u.n, u.b, u.o FROM ${u.sql} ORDER BY u.o`, u.params);
  assert.deepEqual(rows, [
    { t: 'a', n: 1, b: Buffer.from([0, 255]), o: 0 },
    { t: "it's ?", n: -2, b: Buffer.alloc(0), o: 1 },
    { t: '', n: 2 ** 40, b: Buffer.from('x'), o: 2 },
  ]);
  await db.close();
});

test('turns: one holder at a time, first come first served; handing on twice hands on once', async () => {
  const turns = new Turns();
  const order: number[] = [];
  let holders = 0;
  const hold = async (i: number, handOnCalls: number) => {
    const handOn = await turns.take();
    holders++;
    order.push(i);
    assert.equal(holders, 1, 'one holder at a time');
    await sleep(1);
    holders--;
    for (let k = 0; k < handOnCalls; k++) handOn();
  };
  await Promise.all([hold(1, 2), hold(2, 2), hold(3, 1), hold(4, 1)]);
  assert.deepEqual(order, [1, 2, 3, 4]);
  assert.equal(turns.free, true);
});
