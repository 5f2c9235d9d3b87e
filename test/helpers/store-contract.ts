/**
 * The behaviour every Store implementation must have. Run against SQLite in
 * unit tests and against PostgreSQL in the integration suite.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveSpec } from '../../src/encoder/feature-spec.js';
import { DomainError } from '../../src/errors.js';
import { textHash } from '../../src/store/ids.js';
import { labelSetKey, labelsOfKey } from '../../src/store/label-set.js';
import {
  DEFAULT_CLIENT,
  type NewExample,
  type NewVersion,
  type Store,
  type TaskChange,
  type TaskRecord,
  type ClientLimits,
  type VersionEvaluation,
} from '../../src/store/types.js';

const spec = resolveSpec({ model: 'all-MiniLM-L6-v2' }, 6);
const ex = (text: string, label: string): NewExample => ({ text, label, textHash: textHash(text) });
const T = DEFAULT_CLIENT;
const UNLIMITED: ClientLimits = {
  requestsPerMinute: null,
  tokensPerMinute: null,
  maxTasks: null,
  maxExamples: null,
  maxStoredBytes: null,
  maxRunningJobs: null,
  maxActiveJobs: null,
};

function version(labels: string[]): NewVersion {
  return {
    headType: 'svm',
    params: { C: 1 },
    spec,
    labels,
    metrics: { accuracy: 0.9 },
    report: {},
    exampleCount: 3,
    trainingMs: 12,
    artifact: { format: 'libsvm', model: 'svm_type c_svc\n' },
  };
}

export function storeContract(name: string, makeStore: () => Promise<Store>): void {
  let counter = 0;
  const fresh = async () => {
    const store = await makeStore();
    const task = await store.createTask({ clientId: T, name: `task-${name}-${counter++}-${Date.now()}`, description: null, spec });
    return { store, task };
  };

  test(`${name}: tasks are created, read, renamed, listed in pages and deleted; names are unique per client`, async () => {
    const { store, task } = await fresh();
    assert.equal((await store.getTask(T, task.id))!.name, task.name);
    assert.equal(await store.getTask('other-client', task.id), undefined, 'another client cannot see the task');
    await assert.rejects(
      store.createTask({ clientId: T, name: task.name, description: null, spec }),
      (e: unknown) => e instanceof DomainError && e.code === 'name_taken',
    );
    const renamed = await store.updateTask(T, task.id, { name: `${task.name}-renamed`, description: 'about' });
    assert.equal(renamed!.description, 'about');
    const extra = await Promise.all([1, 2, 3].map((i) => store.createTask({ clientId: T, name: `${task.name}-p${i}`, description: null, spec })));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.listTasks(T, 2, after);
      seen.push(...page.items.map((t) => t.id));
      if (!page.next) break;
      after = page.next;
    }
    for (const t of [task, ...extra]) assert.ok(seen.includes(t.id), 'paging reaches every task');
    assert.equal(new Set(seen).size, seen.length, 'no task appears twice across pages');
    assert.equal(await store.deleteTask(T, task.id), true);
    assert.equal(await store.getTask(T, task.id), undefined);
    assert.equal(await store.deleteTask(T, task.id), false);
  });

  test(`${name}: examples: duplicates are counted, conflicts reject the whole upload, replace relabels`, async () => {
    const { store, task } = await fresh();
    const first = await store.addExamples(T, task.id, [ex('a', 'x'), ex('b', 'y'), ex('a', 'x')], 'error');
    assert.deepEqual(first, { inserted: 2, duplicates: 1, merged: 0, skipped: 0, relabelled: 0, conflicts: [], repeats: [] });
    const conflicting = await store.addExamples(T, task.id, [ex('c', 'x'), ex('b', 'z')], 'error');
    assert.equal(conflicting.inserted, 0);
    assert.deepEqual(conflicting.conflicts, [{ text: 'b', existingLabel: 'y', newLabel: 'z' }]);
    assert.equal((await store.getTask(T, task.id))!.exampleCount, 2, 'nothing of the rejected upload was written');
    const skipped = await store.addExamples(T, task.id, [ex('c', 'x'), ex('b', 'z')], 'skip');
    assert.deepEqual([skipped.inserted, skipped.skipped], [1, 1]);
    const replaced = await store.addExamples(T, task.id, [ex('b', 'z')], 'replace');
    assert.equal(replaced.relabelled, 1);
    assert.deepEqual(Object.fromEntries(await store.labelCounts(T, task.id)), { x: 2, z: 1 });
    assert.deepEqual(
      [...(await store.labelledHashes(T, task.id, [textHash('a'), textHash('b'), textHash('never'), textHash('a')]))].sort(),
      [textHash('a'), textHash('b')].sort(),
      'the task holds a and b, not "never"',
    );
  });

  test(`${name}: a text repeated within an upload: single-label, another label is refused naming both records; multi-label, the sets are united`, async () => {
    const { store, task } = await fresh();
    const at = (e: NewExample, where: string): NewExample => ({ ...e, at: where });
    const refused = await store.addExamples(T, task.id, [at(ex('a', 'x'), 'line 1'), at(ex('b', 'y'), 'line 2'), at(ex('a', 'z'), 'line 3')], 'error');
    assert.deepEqual(refused.repeats, [{ text: 'a', firstLabel: 'x', firstAt: 'line 1', label: 'z', at: 'line 3' }]);
    assert.deepEqual(refused.conflicts, [], 'nothing of it is in the task');
    assert.equal((await store.getTask(T, task.id))!.exampleCount, 0, 'nothing was written');
    const skipped = await store.addExamples(T, task.id, [ex('a', 'x'), ex('a', 'z')], 'skip');
    assert.deepEqual([skipped.inserted, skipped.skipped], [1, 1]);
    const replaced = await store.addExamples(T, task.id, [ex('c', 'x'), ex('c', 'z')], 'replace');
    assert.deepEqual([replaced.inserted, replaced.duplicates], [1, 1]);
    assert.deepEqual(
      (await store.allExamples(T, task.id)).map((e) => [e.text, e.label]),
      [
        ['a', 'x'],
        ['c', 'z'],
      ],
      'skip keeps the first label, replace the last',
    );

    const multi = await store.createTask({ clientId: T, name: `${task.name}-multi`, description: null, spec, kind: 'multi_label' });
    const set = (text: string, labels: string[]) => ex(text, labelSetKey(labels));
    const united = await store.addExamples(
      T,
      multi.id,
      [set('p', ['joy']), set('q', ['anger']), set('p', ['love', 'joy']), set('p', ['joy', 'love']), set('p', ['joy'])],
      'error',
    );
    assert.deepEqual(united, { inserted: 2, duplicates: 1, merged: 2, skipped: 0, relabelled: 0, conflicts: [], repeats: [] });
    assert.deepEqual(
      (await store.allExamples(T, multi.id)).map((e) => [e.text, labelsOfKey(e.label)]),
      [
        ['p', ['joy', 'love']],
        ['q', ['anger']],
      ],
    );
    // A text already in the task: its union meets the stored set as one record would.
    const again = await store.addExamples(T, multi.id, [set('p', ['joy']), set('p', ['love'])], 'error');
    assert.deepEqual([again.inserted, again.duplicates, again.merged], [0, 1, 1], 'the same union as stored: a duplicate');
    const clash = await store.addExamples(T, multi.id, [set('q', ['anger']), set('q', ['fear'])], 'error');
    assert.deepEqual(clash.conflicts, [{ text: 'q', existingLabel: labelSetKey(['anger']), newLabel: labelSetKey(['anger', 'fear']) }]);
    const relabelled = await store.addExamples(T, multi.id, [set('q', ['anger']), set('q', ['fear'])], 'replace');
    assert.equal(relabelled.relabelled, 1);
    assert.deepEqual(labelsOfKey((await store.getExample(T, multi.id, 2))!.label), ['anger', 'fear']);
  });

  test(`${name}: example ids are numbered per task: a client's ids are the same whatever other clients upload meanwhile`, async () => {
    const store = await makeStore();
    const [a, b] = [await store.createClient(`ids-a-${counter++}`, UNLIMITED), await store.createClient(`ids-b-${counter++}`, UNLIMITED)];
    const taskOf = (clientId: string) => store.createTask({ clientId, name: `ids-${counter++}`, description: null, spec });
    const texts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ex(`${prefix} ${i}`, `l${i % 2}`));
    /** B's ids after two uploads, with `between` run between them. */
    const idsOfB = async (between: () => Promise<unknown>) => {
      const task = await taskOf(b.id);
      await store.addExamples(b.id, task.id, texts('first', 3), 'error');
      await between();
      await store.addExamples(b.id, task.id, texts('second', 2), 'error');
      return (await store.allExamples(b.id, task.id)).map((e) => e.id);
    };
    const aTask = await taskOf(a.id);
    const alone = await idsOfB(async () => undefined);
    const meanwhile = await idsOfB(() => store.addExamples(a.id, aTask.id, texts('other client', 7), 'error'));
    assert.deepEqual(alone, [1, 2, 3, 4, 5]);
    assert.deepEqual(meanwhile, alone, "client A's upload in between changed nothing of B's ids");
    assert.deepEqual(
      (await store.allExamples(a.id, aTask.id)).map((e) => e.id),
      [1, 2, 3, 4, 5, 6, 7],
      "A's ids count A's examples only",
    );
    assert.equal((await store.getExample(a.id, aTask.id, 1))!.text, 'other client 0');
  });

  test(`${name}: texts and labels round-trip exactly, whatever characters they hold`, async () => {
    const { store, task } = await fresh();
    const odd = ["it's", 'say "hi"', 'back\\slash', 'what?', '$1 and $2', 'line\nbreak\ttab', '😀 é\u0301', ' padded ', '5', '[1,"x"]'];
    await store.addExamples(
      T,
      task.id,
      odd.map((t) => ex(t, `${t}?`)),
      'error',
    );
    const stored = await store.allExamples(T, task.id);
    assert.deepEqual(
      stored.map((e) => [e.text, e.label, e.textHash]),
      odd.map((t) => [t, `${t}?`, textHash(t)]),
    );
  });

  test(`${name}: replace relabels every conflicting text of a large upload`, async () => {
    const { store, task } = await fresh();
    const texts = Array.from({ length: 5500 }, (_, i) => `relabel ${i}`);
    await store.addExamples(
      T,
      task.id,
      texts.map((t) => ex(t, 'before')),
      'error',
    );
    const result = await store.addExamples(
      T,
      task.id,
      texts.map((t, i) => ex(t, i % 2 ? 'odd' : 'even')),
      'replace',
    );
    assert.equal(result.relabelled, 5500);
    assert.deepEqual(Object.fromEntries(await store.labelCounts(T, task.id)), { even: 2750, odd: 2750 });
  });

  test(`${name}: uploads at the same moment are each whole or not at all, see each other's texts, and other requests go on meanwhile`, async () => {
    const { store, task } = await fresh();
    // Over 5,000 texts: several statements per upload, so each transaction stays open across many awaits.
    const a = Array.from({ length: 6000 }, (_, i) => ex(`shared ${i}`, `l${i % 5}`));
    const b = Array.from({ length: 6000 }, (_, i) => ex(`shared ${i + 3000}`, `l${(i + 3000) % 5}`));
    const tooManyLabels = Array.from({ length: 12_000 }, (_, i) => ex(`many ${i}`, `m${i % 60}`));
    const uploads = Promise.allSettled([
      store.addExamples(T, task.id, tooManyLabels, 'error'),
      store.addExamples(T, task.id, a, 'error'),
      store.addExamples(T, task.id, b, 'error'),
    ]);
    // Other requests, one each turn of the microtask queue, so some arrive while a transaction is open.
    const created: Array<Promise<TaskRecord>> = [];
    const reads: Array<Promise<unknown>> = [];
    for (let i = 0; i < 100; i++) {
      created.push(store.createTask({ clientId: T, name: `${task.name}-meanwhile-${i}`, description: null, spec }));
      await null;
      reads.push(store.listExamples(T, task.id, { limit: 10 }));
      await null;
    }
    const [rBad, ra, rb] = await uploads;
    assert.ok(ra.status === 'fulfilled' && rb.status === 'fulfilled', 'both uploads succeed');
    assert.equal(ra.value.inserted + rb.value.inserted, 9000);
    assert.equal(ra.value.duplicates + rb.value.duplicates, 3000, "the later upload sees the earlier one's texts");
    assert.ok(rBad.status === 'rejected' && rBad.reason instanceof DomainError && rBad.reason.code === 'too_many_labels');
    assert.equal((await store.getTask(T, task.id))!.exampleCount, 9000, 'the rolled-back upload left nothing behind');
    assert.deepEqual(
      (await store.allExamples(T, task.id)).map((e) => e.id),
      Array.from({ length: 9000 }, (_, i) => i + 1),
      'the uploads numbered their examples in turn: no id twice, none skipped (the rolled-back upload took none)',
    );
    await Promise.all(reads);
    for (const made of await Promise.all(created)) {
      assert.ok(made && (await store.getTask(T, made.id)), 'a write made meanwhile is not rolled back with an upload');
    }
  });

  test(`${name}: timestamps come from the database's clock, one value per statement`, async (t) => {
    const realNow = Date.now();
    // An application clock far off (a replica with a wrong clock) must not show in any record.
    t.mock.method(Date, 'now', () => 1_000);
    const { store, task } = await fresh();
    assert.equal(task.createdAt, task.updatedAt);
    assert.ok(Math.abs(task.createdAt - realNow) < 60_000, `${task.createdAt} is not near ${realNow}`);
    await store.addExamples(T, task.id, [ex('clock', 'x')], 'error');
    const [example] = await store.allExamples(T, task.id);
    assert.ok(example!.createdAt >= task.createdAt);
    const job = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
    assert.ok(job.createdAt >= task.createdAt);
    let claimed = await store.claimJob('clock', 60_000);
    while (claimed && claimed.id !== job.id) claimed = await store.claimJob('clock', 60_000);
    assert.equal(claimed!.leaseExpiresAt! - claimed!.startedAt!, 60_000, 'the lease and the start read the same clock once');
    const done = await store.finishJob(job.id, 'clock', { state: 'succeeded', version: version(['x']), activate: true });
    assert.ok(done!.finishedAt! >= claimed!.startedAt!);
    const v = await store.getVersion(T, task.id, 1);
    assert.ok(v!.createdAt >= claimed!.startedAt! && v!.createdAt <= done!.finishedAt!);
    assert.ok((await store.getTask(T, task.id))!.updatedAt >= task.createdAt);
  });

  test(`${name}: examples page by id, filter by label, relabel and delete`, async () => {
    const { store, task } = await fresh();
    await store.addExamples(
      T,
      task.id,
      Array.from({ length: 7 }, (_, i) => ex(`text ${i}`, i % 2 ? 'odd' : 'even')),
      'error',
    );
    const ids: number[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await store.listExamples(T, task.id, { limit: 3, after });
      ids.push(...page.items.map((e) => e.id));
      if (!page.next) break;
      after = Number(page.next);
    }
    assert.equal(ids.length, 7);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    const odd = await store.listExamples(T, task.id, { limit: 10, label: 'odd' });
    assert.equal(odd.items.length, 3);
    const relabelled = await store.relabelExample(T, task.id, ids[0]!, 'first');
    assert.equal(relabelled!.label, 'first');
    assert.equal(await store.relabelExample(T, task.id, 999_999_999, 'x'), undefined);
    assert.equal(await store.deleteExample(T, task.id, ids[0]!), true);
    assert.equal(await store.getExample(T, task.id, ids[0]!), undefined);
    assert.deepEqual(await store.deleteExamples(T, task.id, 'odd'), { deleted: 3, relabelled: 0 });
    assert.equal((await store.allExamples(T, task.id)).length, 3);
    assert.equal(await store.deleteExample(T, task.id, ids[6]!), true, 'the last one');
    await store.addExamples(T, task.id, [ex('after the deletions', 'even')], 'error');
    const [latest] = (await store.listExamples(T, task.id, { limit: 1, after: ids[5] })).items;
    assert.deepEqual([latest!.id, latest!.text], [ids[6]! + 1, 'after the deletions'], 'a deleted id is never given again');
  });

  test(`${name}: multi-label examples are listed by one label of their set; deleting a label takes it off, and deletes an example left with none`, async () => {
    const store = await makeStore();
    const task = await store.createTask({ clientId: T, name: `multi-${name}-${counter++}-${Date.now()}`, description: null, spec, kind: 'multi_label' });
    // Labels that a text match would confuse: a prefix, a quote, a comma, one set's key inside another's.
    const sets = [['a'], ['a', 'ab'], ['ab'], ['a"b', 'c'], ['a,b'], ['b', 'c']];
    await store.addExamples(
      T,
      task.id,
      sets.map((s, i) => ex(`text ${i}`, labelSetKey(s))),
      'error',
    );
    const texts = async (label: string) => (await store.listExamples(T, task.id, { limit: 10, label })).items.map((e) => e.text);
    assert.deepEqual(await texts('a'), ['text 0', 'text 1']);
    assert.deepEqual(await texts('ab'), ['text 1', 'text 2']);
    assert.deepEqual(await texts('a"b'), ['text 3']);
    assert.deepEqual(await texts('a,b'), ['text 4']);
    assert.deepEqual(await texts('c'), ['text 3', 'text 5']);
    assert.deepEqual(await texts('b'), ['text 5']);
    assert.deepEqual(await texts('["a"]'), [], 'a stored key is not a label');
    const paged = await store.listExamples(T, task.id, { limit: 1, label: 'c' });
    assert.equal(paged.items.length, 1);
    assert.deepEqual((await store.listExamples(T, task.id, { limit: 1, label: 'c', after: Number(paged.next) })).items[0]!.text, 'text 5');

    assert.deepEqual(await store.deleteExamples(T, task.id, 'a'), { deleted: 1, relabelled: 1 });
    const left = await store.allExamples(T, task.id);
    assert.deepEqual(
      left.map((e) => [e.text, labelsOfKey(e.label)]),
      [
        ['text 1', ['ab']],
        ['text 2', ['ab']],
        ['text 3', ['a"b', 'c']],
        ['text 4', ['a,b']],
        ['text 5', ['b', 'c']],
      ],
    );
    assert.deepEqual(await store.deleteExamples(T, task.id, 'nothing has it'), { deleted: 0, relabelled: 0 });
    assert.deepEqual(await store.deleteExamples(T, task.id, 'c'), { deleted: 0, relabelled: 2 });
    assert.deepEqual(await texts('c'), []);
    assert.deepEqual((await store.labelCounts(T, task.id)).get(labelSetKey(['b'])), 1);
  });

  test(`${name}: retrainAfter: the upload that reaches it queues one job, with the last successful request (the default before any); counts restart`, async () => {
    const { store, task } = await fresh();
    const upload = (texts: string[]) =>
      store.addExamples(
        T,
        task.id,
        texts.map((t) => ex(`${task.id} ${t}`, 'l')),
        'error',
      );
    assert.equal((await upload(['a', 'b', 'c'])).retrainJob, undefined, 'off by default');
    assert.deepEqual([task.retrainAfter, (await store.getTask(T, task.id))!.newExamples], [null, 3]);
    const on = await store.updateTask(T, task.id, { retrainAfter: 3, retrainDefault: { request: { default: true }, maxAttempts: 2 } });
    assert.deepEqual([on!.retrainAfter, on!.newExamples], [3, 0], 'turned on, the count starts afresh');
    assert.equal((await upload(['d', 'e'])).retrainJob, undefined);
    assert.equal((await upload(['d', 'e'])).retrainJob, undefined, 'duplicates are not new examples');
    assert.equal((await store.getTask(T, task.id))!.newExamples, 2);
    const first = (await upload(['f']))!.retrainJob!;
    assert.deepEqual([first.state, first.trigger, first.request, first.maxAttempts], ['queued', 'retrain_after', { default: true }, 2]);
    assert.deepEqual(await store.getJob(T, task.id, first.id), first);
    assert.equal((await store.getTask(T, task.id))!.newExamples, 0);
    // While a job of the task is queued, it will read what comes: no other is queued.
    assert.equal((await upload(['g', 'h', 'i', 'j'])).retrainJob, undefined);
    assert.equal((await store.getTask(T, task.id))!.newExamples, 0, 'covered by the queued job');
    assert.equal((await store.cancelJob(T, task.id, first.id))!.state, 'cancelled');

    // A client's job (its request) restarts the count; once it succeeds, its request is the one reused.
    await upload(['k', 'l']);
    const manual = await store.createJob({ clientId: T, taskId: task.id, request: { head: 'mine' }, maxAttempts: 3 });
    assert.equal(manual.trigger, 'request');
    assert.equal((await store.getTask(T, task.id))!.newExamples, 0);
    let claimed = await store.claimJob('retrain', 1);
    while (claimed && claimed.id !== manual.id) claimed = await store.claimJob('retrain', 1); // other suites' leftovers lapse at once
    assert.equal((await store.finishJob(manual.id, 'retrain', { state: 'succeeded', version: version(['l']) }))!.state, 'succeeded');
    await upload(['m', 'n']);
    const second = (await upload(['o']))!.retrainJob!;
    assert.deepEqual([second.trigger, second.request, second.maxAttempts], ['retrain_after', { head: 'mine' }, 3]);
    await store.cancelJob(T, task.id, second.id);

    // Turned off: no job, however many.
    await store.updateTask(T, task.id, { retrainAfter: null });
    assert.equal((await upload(['p', 'q', 'r', 's'])).retrainJob, undefined);
    assert.equal((await store.getTask(T, task.id))!.retrainAfter, null);
  });

  test(`${name}: retrainAfter: labels given to pool texts count as new examples`, async () => {
    const { store, task } = await fresh();
    await store.updateTask(T, task.id, { retrainAfter: 2, retrainDefault: { request: { pooled: true }, maxAttempts: 1 } });
    await store.addPoolTexts(
      T,
      task.id,
      ['p1', 'p2'].map((t) => ({ text: `${task.id} ${t}`, textHash: `${task.id}-${t}` })),
    );
    const [one, two] = (await store.listPool(T, task.id, { limit: 10 })).items;
    await store.labelPoolText(T, task.id, one!.id, 'l');
    assert.equal((await store.listJobs(T, task.id, 10)).items.length, 0);
    await store.labelPoolText(T, task.id, two!.id, 'm');
    const jobs = (await store.listJobs(T, task.id, 10)).items;
    assert.deepEqual(
      jobs.map((j) => [j.state, j.trigger, j.request]),
      [['queued', 'retrain_after', { pooled: true }]],
    );
    await store.cancelJob(T, task.id, jobs[0]!.id);
  });

  test(`${name}: retrainAfter: uploads at the same moment queue one job between them; a client at its job quota gets none, and its upload goes in`, async () => {
    const { store, task } = await fresh();
    await store.updateTask(T, task.id, { retrainAfter: 1, retrainDefault: { request: {}, maxAttempts: 1 } });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.addExamples(T, task.id, [ex(`${task.id} at once ${i}`, 'l')], 'error')));
    const queued = results.filter((r) => r.retrainJob);
    assert.equal(queued.length, 1, 'one job, whichever upload came first');
    const jobs = (await store.listJobs(T, task.id, 10)).items;
    assert.deepEqual(
      jobs.map((j) => [j.state, j.trigger]),
      [['queued', 'retrain_after']],
    );
    await store.cancelJob(T, task.id, jobs[0]!.id);

    const client = await store.createClient(`retrain-quota-${name}`, { ...UNLIMITED, maxActiveJobs: 1 });
    const own = await store.createTask({ clientId: client.id, name: 'quota', description: null, spec });
    const other = await store.createTask({ clientId: client.id, name: 'busy', description: null, spec });
    await store.createJob({ clientId: client.id, taskId: other.id, request: {}, maxAttempts: 1 });
    await store.updateTask(client.id, own.id, { retrainAfter: 1, retrainDefault: { request: {}, maxAttempts: 1 } });
    const refused = await store.addExamples(client.id, own.id, [ex('over quota', 'l')], 'error');
    assert.deepEqual([refused.inserted, refused.retrainJob], [1, undefined]);
    assert.equal((await store.getTask(client.id, own.id))!.newExamples, 1, 'still counted: the next upload asks again');
    await store.deleteClient(client.id);
  });

  test(`${name}: the label limit rolls an upload back whole`, async () => {
    const { store, task } = await fresh();
    // Each store is made with maxLabels 50 for the contract.
    await assert.rejects(
      store.addExamples(
        T,
        task.id,
        Array.from({ length: 60 }, (_, i) => ex(`t${i}`, `label-${i}`)),
        'error',
      ),
      (e: unknown) => e instanceof DomainError && e.code === 'too_many_labels',
    );
    assert.equal((await store.getTask(T, task.id))!.exampleCount, 0);
  });

  test(`${name}: features round-trip exactly and are shared by spec key`, async () => {
    const { store } = await fresh();
    const v = Float32Array.from([0.1, -2.5, 3e-8, 7]);
    const h = textHash(`feature text ${Date.now()}`);
    await store.putFeatures('spec-a', [[h, v]]);
    const got = await store.getFeatures('spec-a', [h, 'missing']);
    assert.deepEqual(Array.from(got.get(h)!), Array.from(v));
    assert.equal(got.has('missing'), false);
    assert.equal((await store.getFeatures('spec-b', [h])).size, 0);
  });

  test(`${name}: jobs are claimed once, leased, and their version is written and activated atomically`, async () => {
    const { store, task } = await fresh();
    const changes: number[] = [];
    const off = store.onTaskChange((c) => c.kind === 'activated' && c.taskId === task.id && changes.push(c.activeVersion));
    const job = await store.createJob({ clientId: T, taskId: task.id, request: { head: 'svm' }, maxAttempts: 2 });
    assert.equal(job.state, 'queued');
    const claimed = await store.claimJob('replica-a', 60_000);
    assert.equal(claimed!.id, job.id);
    assert.equal(claimed!.attempts, 1);
    assert.equal(await store.claimJob('replica-b', 60_000).then((j) => j?.id === job.id), false, 'a leased job is not claimed twice');
    const beat = await store.heartbeat(job.id, 'replica-a', 60_000, { phase: 'fit', percent: 50, timings: [] });
    assert.deepEqual(beat, { owned: true, cancelRequested: false });
    assert.equal((await store.heartbeat(job.id, 'replica-b', 60_000, { phase: 'x', percent: 0, timings: [] })).owned, false);
    const done = await store.finishJob(job.id, 'replica-a', { state: 'succeeded', version: version(['x', 'y']), activate: true });
    assert.equal(done!.state, 'succeeded');
    assert.equal(done!.versionNumber, 1);
    assert.equal((await store.getTask(T, task.id))!.activeVersion, 1);
    assert.deepEqual(await store.getArtifact(T, task.id, 1), { format: 'libsvm', model: 'svm_type c_svc\n' });
    assert.equal(await store.finishJob(job.id, 'replica-a', { state: 'failed' }), undefined, 'a finished job cannot be finished again');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(changes, [1]);
    off();
  });

  test(`${name}: a job's checkpoint is kept by its holder only, replaced, and goes when the job ends`, async () => {
    const { store, task } = await fresh();
    const job = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 2 });
    let claimed = await store.claimJob('tuner', 60_000);
    while (claimed && claimed.id !== job.id) claimed = await store.claimJob('tuner', 60_000); // other suites' leftovers
    assert.equal(await store.getJobCheckpoint(job.id), undefined);
    assert.equal(await store.saveJobCheckpoint(job.id, 'someone-else', 1, new Uint8Array([9])), false, 'only the holder writes');
    assert.equal(await store.saveJobCheckpoint(job.id, 'tuner', 1, new Uint8Array([1, 2, 3])), true);
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    assert.equal(await store.saveJobCheckpoint(job.id, 'tuner', 2, big), true);
    const got = await store.getJobCheckpoint(job.id);
    assert.equal(got!.epoch, 2, 'the later checkpoint replaces the earlier');
    assert.deepEqual(Buffer.from(got!.bytes), Buffer.from(big));
    // Handed back (a shutdown): the next holder resumes from it.
    assert.equal(await store.releaseJob(job.id, 'tuner'), true);
    let again = await store.claimJob('next', 60_000);
    while (again && again.id !== job.id) again = await store.claimJob('next', 60_000);
    assert.equal((await store.getJobCheckpoint(job.id))!.epoch, 2);
    await store.finishJob(job.id, 'next', { state: 'failed', error: { code: 'x', message: 'y' } });
    assert.equal(await store.getJobCheckpoint(job.id), undefined, 'gone with the job end');
  });

  test(`${name}: a lapsed lease makes the job claimable again, up to its attempt limit`, async () => {
    const { store, task } = await fresh();
    const job = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 2 });
    let claimed = await store.claimJob('dies-1', 1);
    while (claimed && claimed.id !== job.id) claimed = await store.claimJob('dies-1', 1); // other suites' leftovers
    await new Promise((r) => setTimeout(r, 10));
    let again = await store.claimJob('dies-2', 1);
    while (again && again.id !== job.id) again = await store.claimJob('dies-2', 1);
    assert.equal(again!.attempts, 2);
    assert.equal(await store.heartbeat(job.id, 'dies-1', 1000, { phase: 'x', percent: 0, timings: [] }).then((b) => b.owned), false, 'the first owner lost it');
    await new Promise((r) => setTimeout(r, 10));
    await store.claimJob('third', 60_000);
    const failed = await store.getJob(T, task.id, job.id);
    assert.equal(failed!.state, 'failed');
    assert.equal(failed!.error!.code, 'lease_expired');
  });

  test(`${name}: a released job is queued again at once without using up an attempt`, async () => {
    const { store, task } = await fresh();
    const job = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
    let claimed = await store.claimJob('leaving', 60_000);
    while (claimed && claimed.id !== job.id) claimed = await store.claimJob('leaving', 60_000);
    assert.equal(await store.releaseJob(job.id, 'someone-else'), false);
    assert.equal(await store.releaseJob(job.id, 'leaving'), true);
    const again = await store.getJob(T, task.id, job.id);
    assert.deepEqual([again!.state, again!.attempts, again!.leaseOwner], ['queued', 0, null]);
  });

  test(`${name}: cancelling: a queued job ends at once, a running job is flagged, a finished job stays`, async () => {
    const { store, task } = await fresh();
    const queued = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
    assert.equal((await store.cancelJob(T, task.id, queued.id))!.state, 'cancelled');
    const running = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
    let claimed = await store.claimJob('r', 60_000);
    while (claimed && claimed.id !== running.id) claimed = await store.claimJob('r', 60_000);
    assert.equal((await store.cancelJob(T, task.id, running.id))!.cancelRequested, true);
    assert.equal((await store.heartbeat(running.id, 'r', 60_000, { phase: 'fit', percent: 1, timings: [] })).cancelRequested, true);
    await store.finishJob(running.id, 'r', { state: 'cancelled' });
    assert.equal((await store.cancelJob(T, task.id, running.id))!.state, 'cancelled');
    assert.equal(await store.cancelJob(T, task.id, 'job_missing'), undefined);
  });

  test(`${name}: a job whose cancel was requested never succeeds: no version is written or activated`, async () => {
    const { store, task } = await fresh();
    const job = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
    let claimed = await store.claimJob('r', 60_000);
    while (claimed && claimed.id !== job.id) claimed = await store.claimJob('r', 60_000);
    await store.cancelJob(T, task.id, job.id);
    const ended = await store.finishJob(job.id, 'r', { state: 'succeeded', version: version(['a', 'b']), activate: true });
    assert.deepEqual([ended!.state, ended!.versionNumber, ended!.error], ['cancelled', null, null]);
    assert.deepEqual(await store.listVersions(T, task.id), []);
    assert.equal((await store.getTask(T, task.id))!.activeVersion, null);
  });

  test(`${name}: deletions, cancel requests and revocations are announced once, to this process by the time the call resolves`, async () => {
    const { store, task } = await fresh();
    const heard: TaskChange[] = [];
    const off = store.onTaskChange((c) => 'taskId' in c && c.taskId === task.id && heard.push(c));
    const client = await store.createClient(`announced-${name}-${Date.now()}`, UNLIMITED);
    const key = await store.createKey({ clientId: client.id, name: 'k', scopes: ['read'], secretHash: '00'.repeat(32) });
    const keysHeard: string[] = [];
    const offKeys = store.onKeyChange((c) => keysHeard.push(c.keyId));
    await store.revokeKey(client.id, key.id);
    assert.deepEqual(keysHeard, [key.id], 'the revoking process hears its revocation before the call resolves (its key cache must not lag)');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
      let claimed = await store.claimJob('r', 60_000);
      while (claimed && claimed.id !== job.id) claimed = await store.claimJob('r', 60_000);
      await store.finishJob(job.id, 'r', { state: 'succeeded', version: version(['a', 'b']), activate: i === 0 });
      ids.push((await store.getVersion(T, task.id, i + 1))!.id);
    }
    const running = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
    let claimed = await store.claimJob('r', 60_000);
    while (claimed && claimed.id !== running.id) claimed = await store.claimJob('r', 60_000);
    await store.cancelJob(T, task.id, running.id);
    assert.equal(heard.length, 2, 'the cancel request is heard when cancelJob resolves');
    await store.deleteVersion(T, task.id, 3);
    await store.deleteTask(T, task.id);
    // On PostgreSQL the server's copy of each notice also comes back over the listening connection; it must not be delivered twice.
    await new Promise((r) => setTimeout(r, 300));
    off();
    offKeys();
    assert.deepEqual(keysHeard, [key.id]);
    assert.deepEqual(heard, [
      { kind: 'activated', clientId: T, taskId: task.id, activeVersion: 1 },
      { kind: 'cancel_requested', clientId: T, taskId: task.id, jobId: running.id },
      { kind: 'versions_deleted', clientId: T, taskId: task.id, versions: [{ id: ids[2], number: 3 }] },
      { kind: 'task_deleted', clientId: T, taskId: task.id },
      {
        kind: 'versions_deleted',
        clientId: T,
        taskId: task.id,
        versions: [
          { id: ids[0], number: 1 },
          { id: ids[1], number: 2 },
        ],
      },
    ]);
  });

  test(`${name}: a version's evaluation round-trips (older versions have none); examples are read by id within their task only`, async () => {
    const { store, task } = await fresh();
    await store.addExamples(T, task.id, [ex('one', 'a'), ex('two', 'b'), ex('three', 'a')], 'error');
    const examples = await store.allExamples(T, task.id);
    const evaluation: VersionEvaluation = {
      exampleIds: examples.map((e) => e.id),
      truth: [0, 1, 0],
      predicted: [0, -1, 1],
      map: { method: 'pca', explainedVarianceRatio: [0.6, 0.3], rows: [0, 2], x: [0.1, -0.2], y: [1, -1] },
    };
    for (const stored of [evaluation, undefined]) {
      const job = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
      let claimed = await store.claimJob('r', 60_000);
      while (claimed && claimed.id !== job.id) claimed = await store.claimJob('r', 60_000);
      await store.finishJob(job.id, 'r', { state: 'succeeded', version: { ...version(['a', 'b']), ...(stored ? { evaluation: stored } : {}) } });
    }
    assert.deepEqual(await store.getEvaluation(T, task.id, 1), evaluation);
    assert.equal(await store.getEvaluation(T, task.id, 2), null, 'a version without one');
    assert.equal(await store.getEvaluation(T, task.id, 3), undefined, 'no such version');
    assert.equal(await store.getEvaluation('other-client', task.id, 1), undefined, "another client's version");
    const [one, , three] = examples;
    const byId = await store.examplesById(T, task.id, [three!.id, one!.id, 2 ** 40, one!.id]);
    assert.deepEqual(
      [...byId.keys()].sort((x, y) => x - y),
      [one!.id, three!.id],
    );
    assert.equal(byId.get(three!.id)!.text, 'three');
    const other = await store.createTask({ clientId: T, name: `${task.name}-other`, description: null, spec });
    assert.equal((await store.examplesById(T, other.id, [one!.id])).size, 0, "another task's example");
    assert.equal((await store.examplesById('other-client', task.id, [one!.id])).size, 0, "another client's example");
  });

  test(`${name}: versions list, activate (rollback) and refuse to delete the active one`, async () => {
    const { store, task } = await fresh();
    for (let i = 0; i < 2; i++) {
      const job = await store.createJob({ clientId: T, taskId: task.id, request: {}, maxAttempts: 1 });
      let claimed = await store.claimJob('r', 60_000);
      while (claimed && claimed.id !== job.id) claimed = await store.claimJob('r', 60_000);
      await store.finishJob(job.id, 'r', { state: 'succeeded', version: version(['a', 'b']), activate: true });
    }
    assert.deepEqual(
      (await store.listVersions(T, task.id)).map((v) => v.number),
      [1, 2],
    );
    assert.equal((await store.getTask(T, task.id))!.activeVersion, 2);
    assert.equal((await store.activateVersion(T, task.id, 1))!.activeVersion, 1);
    assert.equal(await store.activateVersion(T, task.id, 9), undefined);
    assert.equal(await store.deleteVersion(T, task.id, 1), 'active');
    assert.equal(await store.deleteVersion(T, task.id, 2), 'deleted');
    assert.equal(await store.deleteVersion(T, task.id, 2), 'missing');
    const v1 = await store.getVersion(T, task.id, 1);
    assert.deepEqual(v1!.labels, ['a', 'b']);
    assert.ok(v1!.artifactBytes > 0);
  });

  test(`${name}: a fine-tuned version's stack is written with it, read by its id, counted in stored bytes, and deleted with it`, async () => {
    const { store } = await fresh();
    const client = await store.createClient(`stack-owner-${name}-${Date.now()}`, UNLIMITED);
    const own = await store.createTask({ clientId: client.id, name: 'tuned', description: null, spec });
    const stack = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251);
    const finish = async (clientId: string, taskId: string, v: NewVersion) => {
      const job = await store.createJob({ clientId, taskId, request: {}, maxAttempts: 1 });
      let claimed = await store.claimJob('r', 60_000);
      while (claimed && claimed.id !== job.id) claimed = await store.claimJob('r', 60_000);
      return (await store.finishJob(job.id, 'r', { state: 'succeeded', version: v }))!.versionNumber!;
    };
    const before = (await store.usage(client.id)).storedBytes;
    const frozen = await finish(client.id, own.id, version(['a', 'b']));
    const afterFrozen = (await store.usage(client.id)).storedBytes;
    const tunedSpec = { ...spec, normalize: false };
    const number = await finish(client.id, own.id, {
      ...version(['a', 'b']),
      spec: tunedSpec,
      tunedStack: { bytes: stack, first: 4, last: 5, loadedBytes: 14_000 },
    });
    const v = (await store.getVersion(client.id, own.id, number))!;
    assert.deepEqual(v.tuned, { first: 4, last: 5, storedBytes: 5000, loadedBytes: 14_000 });
    assert.deepEqual(v.spec, { ...tunedSpec, tuned: { version: v.id, first: 4 } }, 'the spec names the version it was written as');
    assert.equal((await store.getVersion(client.id, own.id, frozen))!.tuned, null);
    assert.deepEqual(
      (await store.listVersions(client.id, own.id)).map((r) => r.tuned?.first ?? null),
      [null, 4],
    );
    assert.deepEqual(Array.from((await store.getTunedStack(client.id, v.id))!), Array.from(stack));
    assert.equal(await store.getTunedStack(T, v.id), undefined, "another client's version");
    assert.equal(await store.getTunedStack(client.id, (await store.getVersion(client.id, own.id, frozen))!.id), undefined, 'a version without one');
    const artifactBytes = (await store.getArtifactBytes(client.id, own.id, number))!.byteLength;
    assert.equal((await store.usage(client.id)).storedBytes - afterFrozen, artifactBytes + stack.byteLength, 'the stack counts in stored bytes');
    assert.equal(await store.deleteVersion(client.id, own.id, number), 'deleted');
    assert.equal(await store.getTunedStack(client.id, v.id), undefined);
    assert.equal((await store.usage(client.id)).storedBytes, afterFrozen);
    // With the task: a second stack goes when its task does.
    const again = await finish(client.id, own.id, { ...version(['a']), spec: tunedSpec, tunedStack: { bytes: stack, first: 5, last: 5, loadedBytes: 7000 } });
    const id = (await store.getVersion(client.id, own.id, again))!.id;
    assert.equal(await store.deleteTask(client.id, own.id), true);
    assert.equal(await store.getTunedStack(client.id, id), undefined);
    assert.equal((await store.usage(client.id)).storedBytes, before);
  });

  test(`${name}: a task's pool: deduplicated, paged, counted in quotas, left by texts labelled either way, deleted with its task`, async () => {
    const store = await makeStore();
    const client = await store.createClient(`pool-${name}-${counter++}-${Date.now()}`, { ...UNLIMITED, maxExamples: 5 });
    const task = await store.createTask({ clientId: client.id, name: 'pool', description: null, spec });
    const pt = (text: string) => ({ text, textHash: textHash(text) });
    await store.addExamples(client.id, task.id, [ex('known', 'x')], 'error');
    assert.deepEqual(await store.addPoolTexts(client.id, task.id, [pt('a'), pt('b'), pt('a'), pt('known'), pt('c')]), {
      added: 3,
      labelled: 1,
      pooled: 0,
      repeated: 1,
    });
    assert.deepEqual(await store.addPoolTexts(client.id, task.id, [pt('b'), pt('d')]), { added: 1, labelled: 0, pooled: 1, repeated: 0 });
    const t1 = (await store.getTask(client.id, task.id))!;
    assert.deepEqual([t1.poolCount, t1.exampleCount, t1.labelPrior], [4, 1, null]);
    const first = await store.listPool(client.id, task.id, { limit: 3 });
    assert.deepEqual(
      first.items.map((t) => [t.id, t.text]),
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ],
    );
    assert.deepEqual(
      (await store.listPool(client.id, task.id, { limit: 3, after: Number(first.next) })).items.map((t) => t.text),
      ['d'],
    );
    assert.deepEqual((await store.listPool(T, task.id, { limit: 3 })).items, [], "another client's view");
    const usage = await store.usage(client.id);
    assert.deepEqual([usage.examples, usage.poolTexts, usage.storedBytes], [1, 4, 'known'.length + 'x'.length + 4]);
    // One example and four pooled texts: the client's limit of 5 stored texts is reached.
    await assert.rejects(store.addPoolTexts(client.id, task.id, [pt('e')]), (e: unknown) => e instanceof DomainError && e.code === 'quota_exceeded');
    assert.equal((await store.getTask(client.id, task.id))!.poolCount, 4, 'nothing of the refused request was written');
    // A pooled text uploaded as an example leaves the pool in the same transaction: the quota counts it once.
    assert.equal((await store.addExamples(client.id, task.id, [ex('a', 'y')], 'error')).inserted, 1);
    const t2 = (await store.getTask(client.id, task.id))!;
    assert.deepEqual([t2.poolCount, t2.exampleCount], [3, 2]);
    assert.ok(t2.poolRevision > t1.poolRevision, 'the pool changed');
    // Labelling a pool text moves it: the example takes the task's next number, the pool loses it.
    const labelled = await store.labelPoolText(client.id, task.id, 2, 'y');
    assert.deepEqual([labelled?.id, labelled?.text, labelled?.label], [3, 'b', 'y']);
    assert.equal((await store.getExample(client.id, task.id, 3))?.text, 'b');
    assert.equal(await store.labelPoolText(client.id, task.id, 2, 'y'), undefined, 'gone from the pool');
    assert.equal(await store.labelPoolText(T, task.id, 3, 'y'), undefined, "another client's task");
    assert.deepEqual([...(await store.poolTextsById(client.id, task.id, [1, 2, 3, 4, 99])).keys()].sort(), [3, 4]);
    const sample = await store.poolSample(client.id, task.id, 1);
    assert.equal(sample.length, 1);
    assert.deepEqual(await store.poolSample(client.id, task.id, 1), sample, 'the same sample of the same pool');
    assert.equal((await store.poolSample(client.id, task.id, 10)).length, 2);

    const heard: TaskChange[] = [];
    const off = store.onTaskChange((c) => 'taskId' in c && c.taskId === task.id && heard.push(c));
    const revision = (await store.getTask(client.id, task.id))!.poolRevision;
    const prior = { version: 'zs_1', poolRevision: revision, labels: ['x', 'y'], prior: [0.25, 0.75], poolTexts: 2, iterations: 7, estimatedAt: 0 };
    assert.equal(await store.saveLabelPrior(client.id, task.id, revision - 1, prior), false, 'estimated on an earlier pool');
    assert.equal(await store.saveLabelPrior(client.id, task.id, revision, prior), true);
    const stored = (await store.getTask(client.id, task.id))!.labelPrior!;
    assert.deepEqual({ ...stored, estimatedAt: 0 }, prior);
    assert.ok(stored.estimatedAt > 0, "the database's clock");
    assert.deepEqual(heard, [{ kind: 'prior_estimated', clientId: client.id, taskId: task.id }], 'announced when saveLabelPrior resolves');
    off();

    assert.equal(await store.deletePoolText(client.id, task.id, 3), true);
    assert.equal(await store.deletePoolText(client.id, task.id, 3), false);
    assert.equal(await store.saveLabelPrior(client.id, task.id, revision, null), false, 'the pool changed since');
    assert.equal(await store.clearPool(client.id, task.id), 1);
    assert.equal((await store.getTask(client.id, task.id))!.poolCount, 0);
    await store.addPoolTexts(client.id, task.id, [pt('f')]);
    assert.equal((await store.listPool(client.id, task.id, { limit: 5 })).items[0]?.id, 5, 'a deleted id is never given again');
    assert.equal(await store.deleteTask(client.id, task.id), true);
    assert.deepEqual([(await store.usage(client.id)).poolTexts, (await store.usage(client.id)).storedBytes], [0, 0], 'gone with the task');
  });

  test(`${name}: claims are fair across clients, and a client at its limit of running jobs waits`, async () => {
    const store = await makeStore();
    const busy = await store.createClient('busy', { ...UNLIMITED, maxRunningJobs: 1 });
    const other = await store.createClient('other', UNLIMITED);
    const taskOf = (clientId: string) => store.createTask({ clientId, name: `fair-${counter++}-${Date.now()}`, description: null, spec });
    const [busyTask, otherTask] = [await taskOf(busy.id), await taskOf(other.id)];
    const busyJobs = [];
    for (let i = 0; i < 5; i++) busyJobs.push(await store.createJob({ clientId: busy.id, taskId: busyTask.id, request: {}, maxAttempts: 1 }));
    await new Promise((r) => setTimeout(r, 5)); // the other client's job is strictly later (jobs of one millisecond order by id)
    const otherJob = await store.createJob({ clientId: other.id, taskId: otherTask.id, request: {}, maxAttempts: 1 });
    const mine = new Set([...busyJobs.map((j) => j.id), otherJob.id]);
    /** The next claim of one of this test's jobs (other tests' leftovers are claimed and passed over), or undefined. */
    const nextOfMine = async () => {
      for (;;) {
        const claimed = await store.claimJob('fair', 60_000);
        if (!claimed || mine.has(claimed.id)) return claimed;
      }
    };
    const first = await nextOfMine();
    assert.ok(first && first.clientId === busy.id, 'the oldest job first when no client runs any');
    assert.equal((await nextOfMine())?.id, otherJob.id, "another client's later job before the busy client's second");
    assert.equal(await nextOfMine(), undefined, 'the busy client, at its limit of one running job, waits');
    assert.equal((await store.usage(busy.id)).runningJobs, 1);
    await store.finishJob(first.id, 'fair', { state: 'failed', error: { code: 'training_failed', message: 'test' } });
    const next = await nextOfMine();
    assert.ok(next && next.clientId === busy.id && next.id !== first.id, 'its next job once the first ended');
  });
}
