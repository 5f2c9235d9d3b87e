import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import request from 'supertest';
import { testApp, testStore } from '../helpers/app.js';

const { app } = await testApp();
let n = 0;
const newTask = async (extra: object = {}) =>
  (
    await request(app)
      .post('/v1/tasks')
      .send({ name: `task ${n++}`, ...extra })
      .expect(201)
  ).body;
const upload = (taskId: string, body: string | Buffer, type: string, query = '') =>
  request(app).post(`/v1/tasks/${taskId}/examples${query}`).set('content-type', type).send(body);

test('tasks: create with the default spec, read, list in pages, rename, change spec, delete', async () => {
  const created = await request(app).post('/v1/tasks').send({ name: 'intents', description: 'banking intents' }).expect(201);
  assert.equal(created.headers.location, `/v1/tasks/${created.body.id}`);
  assert.deepEqual(created.body.feature_spec, { model: 'all-MiniLM-L6-v2', layers: [6], layer_combine: 'concat', pooling: 'mean', normalize: true });
  assert.equal(created.body.example_count, 0);
  assert.equal(created.body.active_version, null);
  const id = created.body.id as string;
  assert.equal((await request(app).get(`/v1/tasks/${id}`).expect(200)).body.name, 'intents');
  for (let i = 0; i < 3; i++) await newTask();
  const first = (await request(app).get('/v1/tasks?limit=2').expect(200)).body;
  assert.equal(first.data.length, 2);
  assert.equal(first.has_more, true);
  const second = (await request(app).get(`/v1/tasks?limit=2&after=${first.next_after}`).expect(200)).body;
  assert.ok(second.data.every((t: { id: string }) => !first.data.some((f: { id: string }) => f.id === t.id)));
  const patched = (
    await request(app)
      .patch(`/v1/tasks/${id}`)
      .send({ name: 'intents-v2', feature_spec: { layers: [-2, -1], pooling: 'max' } })
      .expect(200)
  ).body;
  assert.equal(patched.name, 'intents-v2');
  assert.deepEqual(patched.feature_spec.layers, [5, 6]);
  assert.equal(patched.feature_spec.pooling, 'max');
  await request(app).delete(`/v1/tasks/${id}`).expect(204);
  await request(app).get(`/v1/tasks/${id}`).expect(404);
});

test('tasks: bad input is refused with the field named', async () => {
  const t = await newTask();
  const cases: Array<[object, number, string | null, RegExp]> = [
    [{}, 400, 'name', /required/],
    [{ name: '' }, 400, 'name', /must not be empty/],
    [{ name: 'x', feature_spec: { layers: 9 } }, 400, 'feature_spec.layers', /out of range/],
    [{ name: 'x', feature_spec: { pooling: 'sum' } }, 400, 'feature_spec.pooling', /mean/],
    [{ name: 'x', feature_spec: { model: 'nope' } }, 404, 'feature_spec.model', /does not exist/],
    [{ name: 'x', colour: 'red' }, 400, 'colour', /unknown field/],
    [{ name: t.name }, 409, 'name', /already exists/],
  ];
  for (const [body, status, param, message] of cases) {
    const res = await request(app).post('/v1/tasks').send(body).expect(status);
    assert.equal(res.body.error.param, param, JSON.stringify(body));
    assert.match(res.body.error.message, message);
  }
  assert.equal(
    (await request(app).patch(`/v1/tasks/${t.id}`).send({}).expect(400)).body.error.message,
    'send at least one of name, description, feature_spec, label_descriptions, retrain_after',
  );
  assert.equal((await request(app).get('/v1/tasks/task_missing').expect(404)).body.error.code, 'task_not_found');
  assert.equal((await request(app).get('/v1/tasks?limit=0').expect(400)).body.error.param, 'query.limit');
  assert.equal((await request(app).get('/v1/tasks?after=garbage').expect(400)).body.error.code, 'invalid_cursor');
});

test('examples: JSON array, JSON Lines, CSV (quoted commas and newlines) and gzip uploads', async () => {
  const t = await newTask();
  const json = await upload(
    t.id,
    JSON.stringify([
      { text: 'hello there', label: 'greet' },
      { text: 'bye now', label: 'leave' },
    ]),
    'application/json',
  ).expect(201);
  assert.deepEqual([json.body.format, json.body.inserted, json.body.example_count], ['json', 2, 2]);
  const jsonl = await upload(t.id, '{"text":"good morning","label":"greet"}\n\n{"text":"see you","label":"leave"}\n', 'application/x-ndjson').expect(201);
  assert.equal(jsonl.body.inserted, 2);
  const csv = await upload(t.id, 'label,text\ngreet,"hi, friend"\nleave,"farewell\nfor now"\n', 'text/csv').expect(201);
  assert.equal(csv.body.inserted, 2);
  const gz = await request(app)
    .post(`/v1/tasks/${t.id}/examples`)
    .set('content-type', 'application/x-ndjson')
    .set('content-encoding', 'gzip')
    .send(gzipSync('{"text":"howdy","label":"greet"}\n'))
    .expect(201);
  assert.equal(gz.body.inserted, 1);
  const texts = (await request(app).get(`/v1/tasks/${t.id}/examples?limit=100`).expect(200)).body.data.map((e: { text: string }) => e.text);
  assert.ok(texts.includes('hi, friend'));
  assert.ok(texts.includes('farewell\nfor now'));
  assert.deepEqual((await request(app).get(`/v1/tasks/${t.id}`).expect(200)).body.label_counts, { greet: 4, leave: 3 });
});

test('examples: duplicates are detected; a conflicting label rejects the upload unless told to skip or replace', async () => {
  const t = await newTask();
  await upload(
    t.id,
    JSON.stringify([
      { text: 'a', label: 'x' },
      { text: 'b', label: 'y' },
    ]),
    'application/json',
  ).expect(201);
  const dup = await upload(
    t.id,
    JSON.stringify([
      { text: 'a', label: 'x' },
      { text: 'a', label: 'x' },
    ]),
    'application/json',
  ).expect(200);
  assert.deepEqual([dup.body.inserted, dup.body.duplicates], [0, 2]);
  const clash = await upload(
    t.id,
    JSON.stringify([
      { text: 'c', label: 'x' },
      { text: 'b', label: 'z' },
    ]),
    'application/json',
  ).expect(409);
  assert.equal(clash.body.error.code, 'label_conflict');
  assert.deepEqual(clash.body.error.conflicts, [{ text: 'b', existing_label: 'y', new_label: 'z' }]);
  assert.equal((await request(app).get(`/v1/tasks/${t.id}`).expect(200)).body.example_count, 2, 'nothing of the rejected upload was written');
  const replaced = await upload(
    t.id,
    JSON.stringify([
      { text: 'c', label: 'x' },
      { text: 'b', label: 'z' },
    ]),
    'application/json',
    '?on_conflict=replace',
  ).expect(201);
  assert.deepEqual([replaced.body.inserted, replaced.body.relabelled], [1, 1]);
  assert.equal(
    (await request(app).post(`/v1/tasks/${t.id}/examples?on_conflict=maybe`).set('content-type', 'application/json').send('[]').expect(400)).body.error.param,
    'query.on_conflict',
  );
});

test('examples: a text the upload itself gives two labels is refused as repeated within the upload, with its lines, not as already in the task', async () => {
  const t = await newTask();
  await upload(t.id, '{"text":"stored","label":"x"}\n', 'application/x-ndjson').expect(201);
  const body = ['{"text":"hello","label":"greet"}', '{"text":"bye","label":"leave"}', '', '{"text":"hello","label":"leave"}'].join('\n');
  const refused = await upload(t.id, body, 'application/x-ndjson').expect(409);
  assert.equal(refused.body.error.code, 'label_conflict');
  assert.match(refused.body.error.message, /^a text is repeated within the upload with another label; nothing was added/);
  assert.match(refused.body.error.message, /First: "hello" is "greet" at line 1 and "leave" at line 4$/);
  assert.doesNotMatch(refused.body.error.message, /already in the task/);
  assert.deepEqual(refused.body.error.repeats, [{ text: 'hello', first_label: 'greet', first_at: 'line 1', label: 'leave', at: 'line 4' }]);
  assert.deepEqual(refused.body.error.conflicts, []);
  const csv = await upload(t.id, 'text,label\nhello,greet\n"hello",leave\n', 'text/csv').expect(409);
  assert.match(csv.body.error.message, /"greet" at line 2 and "leave" at line 3/);
  const array = await upload(
    t.id,
    JSON.stringify([
      { text: 'hello', label: 'greet' },
      { text: 'hello', label: 'leave' },
    ]),
    'application/json',
  ).expect(409);
  assert.match(array.body.error.message, /at examples\[0\] and "leave" at examples\[1\]/);

  // Both at once: the repeat comes first, the stored conflict is named too.
  const both = await upload(
    t.id,
    '{"text":"stored","label":"y"}\n{"text":"hello","label":"greet"}\n{"text":"hello","label":"leave"}\n',
    'application/x-ndjson',
  ).expect(409);
  assert.match(both.body.error.message, /repeated within the upload.*; also, a text is already in the task with another label$/);
  assert.deepEqual(both.body.error.conflicts, [{ text: 'stored', existing_label: 'x', new_label: 'y' }]);
  const stored = await upload(t.id, '{"text":"stored","label":"y"}\n', 'application/x-ndjson').expect(409);
  assert.match(stored.body.error.message, /^a text is already in the task with another label/);
  assert.equal((await request(app).get(`/v1/tasks/${t.id}`).expect(200)).body.example_count, 1, 'nothing of the refused uploads was written');

  const first = await upload(t.id, body, 'application/x-ndjson', '?on_conflict=skip').expect(201);
  assert.deepEqual([first.body.received, first.body.inserted, first.body.skipped, first.body.merged], [3, 2, 1, 0]);
  const texts = (await request(app).get(`/v1/tasks/${t.id}/examples`).expect(200)).body.data.map((e: { text: string; label: string }) => [e.text, e.label]);
  assert.deepEqual(texts, [
    ['stored', 'x'],
    ['hello', 'greet'],
    ['bye', 'leave'],
  ]);
});

test('examples: malformed uploads are rejected whole, with line numbers', async () => {
  const t = await newTask();
  const cases: Array<[string, string, number, string, RegExp]> = [
    [
      'application/x-ndjson',
      '{"text":"ok","label":"a"}\n{"text":"broken"\n{"text":"","label":"a"}\n{"text":"x","label":7}\n',
      400,
      'invalid_examples',
      /4 invalid|3 invalid/,
    ],
    ['application/json', '[{"text":"ok","label":"a"}, {"text":"x"}]', 400, 'invalid_examples', /examples\[1\]: label is missing/],
    ['application/json', '[{"text":"ok","label":"a"}', 400, 'invalid_json', /not closed/],
    ['application/json', '{"text":"ok","label":"a"}', 400, 'invalid_json', /must be an array/],
    ['application/json', '[]', 400, 'empty_upload', /no examples/],
    ['text/csv', 'words,category\nhello,a\n', 400, 'invalid_csv', /must name the columns "text" and "label"/],
    ['text/csv', 'text,label\nhello,a\n"unclosed,b\n', 400, 'invalid_csv', /line/],
    ['text/csv', 'text,label\nhello,a,extra\n', 400, 'invalid_examples', /line 2: has 3 fields/],
    ['text/plain', 'hello', 415, 'unsupported_media_type', /text\/csv/],
  ];
  for (const [type, body, status, code, message] of cases) {
    const res = await upload(t.id, body, type).expect(status);
    assert.equal(res.body.error.code, code, body);
    assert.match(res.body.error.message, message, body);
  }
  const detail = (await upload(t.id, '{"text":"ok","label":"a"}\n{"text":"broken"\n{"text":"","label":"a"}\n{"text":"x","label":7}\n', 'application/x-ndjson'))
    .body.error;
  assert.deepEqual(
    detail.errors.map((e: { at: string }) => e.at),
    ['line 2', 'line 3', 'line 4'],
  );
  assert.match(detail.errors[2].message, /label must be a string \(got 7\)/);
  assert.equal((await request(app).get(`/v1/tasks/${t.id}`).expect(200)).body.example_count, 0, 'no partial writes');
  await upload('task_missing', '[]', 'application/json').expect(404);
  const long = await upload(t.id, JSON.stringify([{ text: 'y'.repeat(100_001), label: 'a' }]), 'application/json').expect(400);
  assert.match(long.body.error.message, /longer than 100000 characters/);
});

test('examples: more distinct labels than allowed rolls the upload back', async () => {
  const small = await testApp({ store: await testStore(5) });
  const t = (await request(small.app).post('/v1/tasks').send({ name: 'many' }).expect(201)).body;
  const body = Array.from({ length: 6 }, (_, i) => JSON.stringify({ text: `t${i}`, label: `l${i}` })).join('\n');
  const res = await request(small.app).post(`/v1/tasks/${t.id}/examples`).set('content-type', 'application/x-ndjson').send(body).expect(400);
  assert.equal(res.body.error.code, 'too_many_labels');
  assert.equal((await request(small.app).get(`/v1/tasks/${t.id}`).expect(200)).body.example_count, 0);
});

test('examples: 100,000 examples in one JSON Lines upload', async () => {
  const t = await newTask();
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) lines.push(JSON.stringify({ text: `example sentence number ${i} about topic ${i % 50}`, label: `topic-${i % 50}` }));
  const res = await upload(t.id, lines.join('\n'), 'application/x-ndjson').expect(201);
  assert.equal(res.body.inserted, 100_000);
  assert.equal(res.body.example_count, 100_000);
  const page = (await request(app).get(`/v1/tasks/${t.id}/examples?limit=1000&label=topic-7`).expect(200)).body;
  assert.equal(page.data.length, 1000);
  assert.ok(page.data.every((e: { label: string }) => e.label === 'topic-7'));
});

test('examples: page, relabel, delete one, delete a label, refuse an unscoped delete', async () => {
  const t = await newTask();
  await upload(
    t.id,
    Array.from({ length: 5 }, (_, i) => JSON.stringify({ text: `s${i}`, label: i < 3 ? 'a' : 'b' })).join('\n'),
    'application/x-ndjson',
  ).expect(201);
  const p1 = (await request(app).get(`/v1/tasks/${t.id}/examples?limit=2`).expect(200)).body;
  const p2 = (await request(app).get(`/v1/tasks/${t.id}/examples?limit=2&after=${p1.next_after}`).expect(200)).body;
  assert.ok(p2.data[0].id > p1.data[1].id);
  const id = p1.data[0].id;
  assert.equal((await request(app).patch(`/v1/tasks/${t.id}/examples/${id}`).send({ label: 'c' }).expect(200)).body.label, 'c');
  assert.equal((await request(app).patch(`/v1/tasks/${t.id}/examples/${id}`).send({ label: 5 }).expect(400)).body.error.param, 'label');
  await request(app).delete(`/v1/tasks/${t.id}/examples/${id}`).expect(204);
  await request(app).get(`/v1/tasks/${t.id}/examples/${id}`).expect(404);
  assert.equal(
    (
      await request(app)
        .get(`/v1/tasks/${t.id}/examples/${2 ** 60}`)
        .expect(404)
    ).body.error.code,
    'example_not_found',
    'an id no task ever gave',
  );
  assert.equal(
    (
      await request(app)
        .get(`/v1/tasks/${t.id}/examples?after=${2 ** 60}`)
        .expect(400)
    ).body.error.param,
    'query.after',
  );
  await request(app).delete(`/v1/tasks/${t.id}/examples/abc`).expect(404);
  assert.match((await request(app).delete(`/v1/tasks/${t.id}/examples`).expect(400)).body.error.message, /all=true/);
  assert.equal((await request(app).delete(`/v1/tasks/${t.id}/examples?label=b`).expect(200)).body.deleted, 2);
  assert.equal((await request(app).delete(`/v1/tasks/${t.id}/examples?all=true`).expect(200)).body.deleted, 2);
});
