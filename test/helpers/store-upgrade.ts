/**
 * One upgrade contract, both stores: a database as an older release left it, rows written with that
 * release's names, then opened by this release's store, which migrates it and must find every row
 * under the ids the older release gave out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Adapter } from '../../src/store/adapter.js';
import { applyMigrations, JOB_CHECKPOINTS_MIGRATION, POOL_MIGRATION, RETRAIN_AFTER_MIGRATION, TUNED_STACKS_MIGRATION } from '../../src/store/migrations.js';
import type { Store } from '../../src/store/types.js';

export interface UpgradeTarget {
  /** An adapter on the target's database (or schema), new and empty the first time. */
  adapter(): Promise<Adapter>;
  /** This release's store on the same database. */
  store(): Promise<Store>;
}

const spec = JSON.stringify({ model: 'm', layers: [6], layerCombine: 'concat', pooling: 'mean', normalize: true });

/** `fresh` gives each test a database of its own. */
export function upgradeContract(name: string, fresh: () => UpgradeTarget): void {
  test(`${name}: a database of schema version 5 (clients were "tenants") opens with its clients, keys, tasks, examples and jobs`, async () => {
    const target = fresh();
    const db = await target.adapter();
    await applyMigrations(db, 5);
    await db.run(`INSERT INTO tenants (id, name, created_at, max_tasks) VALUES ('acme', 'acme', 1, 7)`);
    await db.run(`INSERT INTO api_keys (id, tenant_id, name, scopes, secret_hash, created_at) VALUES ('k1', 'acme', 'ci', '["read"]', 'h', 1)`);
    await db.run(`INSERT INTO tasks (id, tenant_id, name, spec, created_at, updated_at) VALUES ('task_old', 'acme', 'intents', ?, 1, 1)`, [spec]);
    for (const [i, text] of ['hello', 'where is my card'].entries())
      await db.run(`INSERT INTO examples (tenant_id, task_id, text, text_hash, label, created_at) VALUES ('acme', 'task_old', ?, ?, ?, 1)`, [
        text,
        `h${i}`,
        `l${i}`,
      ]);
    await db.run(
      `INSERT INTO jobs (id, tenant_id, task_id, state, request, progress, max_attempts, created_at) VALUES ('job_old', 'acme', 'task_old', 'queued', '{}', '{}', 3, 1)`,
    );
    await db.close();

    const store = await target.store();
    try {
      const client = await store.getClient('acme');
      assert.equal(client?.name, 'acme');
      assert.equal(client?.limits.maxTasks, 7, "the client's own limit is kept");
      assert.equal((await store.findKey('k1'))?.clientId, 'acme');
      assert.equal((await store.getTask('acme', 'task_old'))?.name, 'intents');
      assert.equal((await store.getTask('default', 'task_old')) ?? null, null, 'still invisible to another client');
      const examples = await store.listExamples('acme', 'task_old', { limit: 10 });
      assert.deepEqual(
        examples.items.map((e) => [e.text, e.label]),
        [
          ['hello', 'l0'],
          ['where is my card', 'l1'],
        ],
      );
      assert.equal((await store.getJob('acme', 'task_old', 'job_old'))?.state, 'queued');
      assert.equal((await store.usage('acme')).tasks, 1, 'quotas count the rows under the new names');
    } finally {
      await store.close();
    }
  });

  test(`${name}: example ids given out before they were numbered per task keep naming the same examples, and are never given again`, async () => {
    const target = fresh();
    const db = await target.adapter();
    await applyMigrations(db, 6);
    await db.run(`INSERT INTO clients (id, name, created_at) VALUES ('acme', 'acme', 1), ('other', 'other', 1)`);
    for (const [task, client] of [
      ['task_a', 'acme'],
      ['task_b', 'other'],
      ['task_c', 'acme'],
    ])
      await db.run(`INSERT INTO tasks (id, client_id, name, spec, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1)`, [task, client, task, spec]);
    // One sequence for every task, as before: ids 1..6 alternate between the tasks of two clients.
    const old = ['a0', 'b0', 'a1', 'b1', 'a2', 'b2'];
    for (const text of old)
      await db.run(`INSERT INTO examples (client_id, task_id, text, text_hash, label, created_at) VALUES (?, ?, ?, ?, 'l', 1)`, [
        text.startsWith('a') ? 'acme' : 'other',
        text.startsWith('a') ? 'task_a' : 'task_b',
        text,
        `h-${text}`,
      ]);
    // The highest id ever given (6) is gone: a stored evaluation or a client may still name it.
    await db.run(`DELETE FROM examples WHERE text = 'b2'`);
    await db.close();

    const store = await target.store();
    try {
      const ids = (client: string, task: string) => store.allExamples(client, task).then((all) => all.map((e) => [e.id, e.text]));
      assert.deepEqual(await ids('acme', 'task_a'), [
        [1, 'a0'],
        [3, 'a1'],
        [5, 'a2'],
      ]);
      assert.deepEqual(await ids('other', 'task_b'), [
        [2, 'b0'],
        [4, 'b1'],
      ]);
      assert.equal((await store.getExample('acme', 'task_a', 3))?.text, 'a1', 'get by an old id');
      assert.equal((await store.getExample('other', 'task_a', 3)) ?? null, null, 'still not to another client');
      assert.deepEqual(
        (await store.listExamples('acme', 'task_a', { limit: 10, after: 1 })).items.map((e) => e.id),
        [3, 5],
        'an old id as a paging cursor',
      );
      assert.deepEqual([...(await store.examplesById('other', 'task_b', [2, 4, 6])).keys()].sort(), [2, 4], 'an evaluation naming old ids');
      assert.equal((await store.relabelExample('acme', 'task_a', 5, 'm'))?.label, 'm');
      assert.equal(await store.deleteExample('acme', 'task_a', 1), true);

      // New examples in an old task number on past every id the old sequence gave, deleted ones included.
      await store.addExamples('other', 'task_b', [{ text: 'b3', textHash: 'h-b3', label: 'l' }], 'error');
      await store.addExamples('acme', 'task_a', [{ text: 'a3', textHash: 'h-a3', label: 'l' }], 'error');
      await store.addExamples('acme', 'task_c', [{ text: 'c0', textHash: 'h-c0', label: 'l' }], 'error');
      assert.deepEqual(await ids('other', 'task_b'), [
        [2, 'b0'],
        [4, 'b1'],
        [7, 'b3'],
      ]);
      assert.deepEqual((await ids('acme', 'task_a')).at(-1), [7, 'a3'], 'numbered within its own task');
      assert.deepEqual(await ids('acme', 'task_c'), [[7, 'c0']]);
      const created = await store.createTask({ clientId: 'acme', name: 'new', description: null, spec: JSON.parse(spec) });
      await store.addExamples('acme', created.id, [{ text: 'n0', textHash: 'h-n0', label: 'l' }], 'error');
      assert.deepEqual(await ids('acme', created.id), [[1, 'n0']], 'a new task numbers from 1');
    } finally {
      await store.close();
    }
  });

  test(`${name}: a database from before fine-tuned versions opens with its versions, none fine-tuned; a fine-tuned one is written beside them`, async () => {
    const target = fresh();
    const db = await target.adapter();
    await applyMigrations(db, TUNED_STACKS_MIGRATION - 1);
    await db.run(`INSERT INTO clients (id, name, created_at) VALUES ('acme', 'acme', 1)`);
    await db.run(`INSERT INTO tasks (id, client_id, name, spec, created_at, updated_at, next_version) VALUES ('task_v', 'acme', 'intents', ?, 1, 1, 2)`, [
      spec,
    ]);
    await db.run(
      `INSERT INTO versions (id, client_id, task_id, number, head_type, params, spec, labels, metrics, report, example_count, training_ms, created_at, artifact, artifact_bytes)
       VALUES ('ver_old', 'acme', 'task_v', 1, 'svm', '{}', ?, '["a","b"]', '{}', '{}', 3, 5, 1, ?, 2)`,
      [spec, Buffer.from('{}')],
    );
    await db.close();

    const store = await target.store();
    try {
      const old = await store.getVersion('acme', 'task_v', 1);
      assert.equal(old?.headType, 'svm');
      assert.equal(old?.tuned, null, 'an old version has no tuned layers');
      assert.equal(await store.getTunedStack('acme', 'ver_old'), undefined);
      const before = (await store.usage('acme')).storedBytes;
      const job = await store.createJob({ clientId: 'acme', taskId: 'task_v', request: {}, maxAttempts: 1 });
      let claimed = await store.claimJob('r', 60_000);
      while (claimed && claimed.id !== job.id) claimed = await store.claimJob('r', 60_000);
      const version = {
        headType: 'fine_tune',
        params: {},
        spec: JSON.parse(spec),
        labels: ['a', 'b'],
        metrics: {},
        report: {},
        exampleCount: 3,
        trainingMs: 5,
        artifact: {},
        tunedStack: { bytes: new Uint8Array(100).fill(7), first: 5, last: 5, loadedBytes: 400 },
      };
      const done = await store.finishJob(job.id, 'r', { state: 'succeeded', version });
      assert.equal(done?.versionNumber, 2);
      const tuned = (await store.getVersion('acme', 'task_v', 2))!;
      assert.equal(tuned.tuned?.storedBytes, 100);
      assert.equal((await store.getTunedStack('acme', tuned.id))?.byteLength, 100);
      assert.ok((await store.usage('acme')).storedBytes >= before + 100);
    } finally {
      await store.close();
    }
  });

  test(`${name}: a database from before retrain_after opens with it off, its jobs queued by request, and counts new examples from the upgrade`, async () => {
    const target = fresh();
    const db = await target.adapter();
    await applyMigrations(db, RETRAIN_AFTER_MIGRATION - 1);
    await db.run(`INSERT INTO clients (id, name, created_at) VALUES ('acme', 'acme', 1)`);
    await db.run(`INSERT INTO tasks (id, client_id, name, spec, created_at, updated_at, next_example) VALUES ('task_r', 'acme', 'intents', ?, 1, 1, 3)`, [
      spec,
    ]);
    for (const [i, text] of ['hello', 'where is my card'].entries())
      await db.run(`INSERT INTO examples (client_id, task_id, number, text, text_hash, label, created_at) VALUES ('acme', 'task_r', ?, ?, ?, 'l', 1)`, [
        i + 1,
        text,
        `h${i}`,
      ]);
    await db.run(
      `INSERT INTO jobs (id, client_id, task_id, state, request, progress, max_attempts, created_at) VALUES ('job_r', 'acme', 'task_r', 'succeeded', '{"old":true}', '{}', 3, 1)`,
    );
    await db.close();

    const store = await target.store();
    try {
      const task = (await store.getTask('acme', 'task_r'))!;
      assert.deepEqual([task.retrainAfter, task.newExamples, task.exampleCount], [null, 0, 2]);
      assert.equal((await store.getJob('acme', 'task_r', 'job_r'))?.trigger, 'request');
      await store.updateTask('acme', 'task_r', { retrainAfter: 1, retrainDefault: { request: {}, maxAttempts: 1 } });
      const added = await store.addExamples('acme', 'task_r', [{ text: 'new', textHash: 'h-new', label: 'l' }], 'error');
      assert.deepEqual([added.retrainJob?.trigger, added.retrainJob?.request], ['retrain_after', { old: true }], "the old job's request is reused");
    } finally {
      await store.close();
    }
  });

  test(`${name}: a job queued before checkpoints existed runs, keeps a checkpoint, and ends without it`, async () => {
    const target = fresh();
    const db = await target.adapter();
    await applyMigrations(db, JOB_CHECKPOINTS_MIGRATION - 1);
    await db.run(`INSERT INTO clients (id, name, created_at) VALUES ('acme', 'acme', 1)`);
    await db.run(`INSERT INTO tasks (id, client_id, name, spec, created_at, updated_at, next_version) VALUES ('task_j', 'acme', 'intents', ?, 1, 1, 1)`, [
      spec,
    ]);
    await db.run(
      `INSERT INTO jobs (id, client_id, task_id, state, request, progress, max_attempts, created_at) VALUES ('job_old', 'acme', 'task_j', 'queued', '{}', ?, 2, 1)`,
      [JSON.stringify({ phase: 'queued', percent: 0, timings: [] })],
    );
    await db.close();

    const store = await target.store();
    try {
      let claimed = await store.claimJob('r', 60_000);
      while (claimed && claimed.id !== 'job_old') claimed = await store.claimJob('r', 60_000);
      assert.equal(claimed?.id, 'job_old');
      assert.equal(await store.getJobCheckpoint('job_old'), undefined);
      assert.equal(await store.saveJobCheckpoint('job_old', 'r', 1, new Uint8Array([4, 5])), true);
      assert.equal((await store.getJobCheckpoint('job_old'))?.epoch, 1);
      await store.finishJob('job_old', 'r', { state: 'cancelled' });
      assert.equal(await store.getJobCheckpoint('job_old'), undefined);
    } finally {
      await store.close();
    }
  });

  test(`${name}: a database from before task pools opens with empty pools and no priors; a pool is kept beside the old examples`, async () => {
    const target = fresh();
    const db = await target.adapter();
    await applyMigrations(db, POOL_MIGRATION - 1);
    await db.run(`INSERT INTO clients (id, name, created_at) VALUES ('acme', 'acme', 1)`);
    await db.run(`INSERT INTO tasks (id, client_id, name, spec, created_at, updated_at, next_example) VALUES ('task_p', 'acme', 'intents', ?, 1, 1, 3)`, [
      spec,
    ]);
    for (const [i, text] of ['hello', 'where is my card'].entries())
      await db.run(`INSERT INTO examples (client_id, task_id, number, text, text_hash, label, created_at) VALUES ('acme', 'task_p', ?, ?, ?, 'l', 1)`, [
        i + 1,
        text,
        `h${i}`,
      ]);
    await db.close();

    const store = await target.store();
    try {
      const task = (await store.getTask('acme', 'task_p'))!;
      assert.deepEqual([task.exampleCount, task.poolCount, task.poolRevision, task.labelPrior], [2, 0, 0, null]);
      const added = await store.addPoolTexts('acme', 'task_p', [
        { text: 'hello', textHash: 'h0' },
        { text: 'new text', textHash: 'h-new' },
      ]);
      assert.deepEqual(added, { added: 1, labelled: 1, pooled: 0, repeated: 0 }, 'deduplicated against the old examples');
      assert.deepEqual(
        (await store.listPool('acme', 'task_p', { limit: 10 })).items.map((t) => [t.id, t.text]),
        [[1, 'new text']],
      );
      const example = await store.labelPoolText('acme', 'task_p', 1, 'm');
      assert.equal(example?.id, 3, 'numbered on from the old examples');
      assert.deepEqual([(await store.usage('acme')).examples, (await store.usage('acme')).poolTexts], [3, 0]);
    } finally {
      await store.close();
    }
  });
}
