/**
 * The isolation suite, run against any store (SQLite in one process,
 * PostgreSQL for replicas): with keys on, two clients; every route that takes
 * a task, job, version or example id is called by one client with the other's
 * ids and answers 404 (never 403), and changes nothing; missing, malformed,
 * wrong and revoked keys get 401, keys without the scope 403; quotas and rate
 * limits answer with their codes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Express } from 'express';
import OpenAI from 'openai';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import type { Route } from '../../src/http/route.js';
import { clientLimits } from '../../src/store/open.js';
import type { DefaultLimits } from '../../src/store/sql-store.js';
import type { Store } from '../../src/store/types.js';
import { listen, testService } from './app.js';
import { intents, jsonl } from './fixtures.js';
import { waitForJob } from './jobs.js';

export const ADMIN = 'admin-key-for-tests-0123456789abcdef';
export const KEYS_ON = { TRANSFERD_ADMIN_KEY: ADMIN, TRANSFERD_CLIENT_MAX_RUNNING_JOBS: '2' };

/** The store limits the keys-on configuration sets (what `openStore` would give the store). */
export const keysOnLimits = (env: Record<string, string> = {}): DefaultLimits => clientLimits(loadConfig({ ...KEYS_ON, ...env }));

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Creates a client through the admin API and issues it a key with `scopes`. */
export async function client(app: Express, name: string, scopes?: string[], limits?: Record<string, number>) {
  const created = await request(app)
    .post('/v1/admin/clients')
    .set(bearer(ADMIN))
    .send({ name, ...(limits ? { limits } : {}) });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const key = await issue(app, created.body.id, scopes);
  return { id: created.body.id as string, key: key.key as string, keyId: key.id as string };
}

export async function issue(app: Express, clientId: string, scopes?: string[]) {
  const issued = await request(app)
    .post(`/v1/admin/clients/${clientId}/keys`)
    .set(bearer(ADMIN))
    .send(scopes ? { scopes } : {});
  assert.equal(issued.status, 201, JSON.stringify(issued.body));
  return issued.body;
}

/** A valid body (and query) for each route that takes one, so that only ownership can fail the crossed calls. */
function bodyFor(route: Route): { type?: string; body?: unknown; query?: Record<string, string> } {
  const key = `${route.method} ${route.path}`;
  const bodies: Record<string, { type?: string; body?: unknown; query?: Record<string, string> }> = {
    'delete /v1/tasks/:task/examples': { query: { all: 'true' } },
    'patch /v1/tasks/:task': { body: { description: 'taken over' } },
    'post /v1/tasks/:task/examples': { type: 'application/x-ndjson', body: jsonl([{ text: 'an intruder text', label: 'weather' }]) },
    'patch /v1/tasks/:task/examples/:example': { body: { label: 'music' } },
    'post /v1/tasks/:task/jobs': { body: { head: 'svm', evaluation: { method: 'holdout', fraction: 0.25 } } },
    'post /v1/tasks/:task/predict': { body: { input: 'Will it rain in Oslo?' } },
    'post /v1/tasks/:task/evaluate': { body: { examples: [{ text: 'Will it rain in Oslo?', label: 'weather' }] } },
    'post /v1/tasks/:task/suggestions': { body: { input: ['Will it rain in Oslo?', 'Play some jazz'], k: 1 } },
    'post /v1/tasks/:task/pool': { body: { input: 'an intruder text' } },
    'post /v1/tasks/:task/pool/:pool_text/label': { body: { label: 'weather' } },
  };
  return bodies[key] ?? {};
}

const OWNED_PARAMS = new Set(['task', 'example', 'job', 'version', 'pool_text']);

export function isolationSuite(name: string, makeStore: () => Promise<Store>, env: Record<string, string> = {}): void {
  const setup = (async () => {
    const store = await makeStore();
    const service = await testService({ env: { ...KEYS_ON, ...env }, store });
    const app = service.app.app;
    const a = await client(app, `${name}-a`);
    const b = await client(app, `${name}-b`);
    // A's records: a trained task with examples, a finished job and a version.
    const task = await request(app).post('/v1/tasks').set(bearer(a.key)).send({ name: 'mine' });
    assert.equal(task.status, 201, JSON.stringify(task.body));
    await request(app)
      .post(`/v1/tasks/${task.body.id}/examples`)
      .set(bearer(a.key))
      .set('content-type', 'application/x-ndjson')
      .send(jsonl(intents(6)))
      .expect(201);
    const started = await request(app)
      .post(`/v1/tasks/${task.body.id}/jobs`)
      .set(bearer(a.key))
      .send({ head: 'svm', evaluation: { method: 'holdout', fraction: 0.25 } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const job = await waitForJob(app, task.body.id, started.body.id, 120_000, a.key);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const example = (await request(app).get(`/v1/tasks/${task.body.id}/examples`).set(bearer(a.key)).query({ limit: 1 })).body.data[0].id as number;
    await request(app)
      .post(`/v1/tasks/${task.body.id}/pool`)
      .set(bearer(a.key))
      .send({ input: ['an unlabelled text of A', 'another of A'] })
      .expect(201);
    // B's own task, so that A's example, job and version ids are also tried under a task B may read.
    const own = await request(app).post('/v1/tasks').set(bearer(b.key)).send({ name: 'theirs' });
    return {
      store,
      service,
      app,
      a,
      b,
      ids: { task: task.body.id as string, job: started.body.id as string, version: job.version!, example, pool_text: 1 },
      ownTask: own.body.id as string,
    };
  })();

  test(`${name}: a client reaches none of another client's tasks, examples, jobs or versions: 404 on every route, and nothing changes`, async () => {
    const { app, a, b, ids, ownTask, service } = await setup;
    const snapshot = async () => {
      const t = await request(app).get(`/v1/tasks/${ids.task}`).set(bearer(a.key)).expect(200);
      const versions = await request(app).get(`/v1/tasks/${ids.task}/versions`).set(bearer(a.key)).expect(200);
      const jobs = await request(app).get(`/v1/tasks/${ids.task}/jobs`).set(bearer(a.key)).expect(200);
      const ex = await request(app).get(`/v1/tasks/${ids.task}/examples/${ids.example}`).set(bearer(a.key)).expect(200);
      const pool = await request(app).get(`/v1/tasks/${ids.task}/pool`).set(bearer(a.key)).expect(200);
      return JSON.stringify([t.body, versions.body.data, jobs.body.data.map((j: { id: string; state: string }) => [j.id, j.state]), ex.body, pool.body.data]);
    };
    const before = await snapshot();
    const crossed = service.app.docs.routes.filter((r) => Object.keys(r.params ?? {}).some((p) => OWNED_PARAMS.has(p)));
    assert.ok(crossed.length >= 18, `${crossed.length} routes take an owned id`);
    for (const route of crossed) {
      // With A's task, and with B's own task holding A's example, job or version ids.
      for (const taskId of [ids.task, ownTask]) {
        const path = route.path.replace(/:(\w+)/g, (_m, p: string) => String(p === 'task' ? taskId : ids[p as keyof typeof ids]));
        if (taskId === ownTask && !/:(example|job|pool_text)/.test(route.path)) continue; // B's own task and version numbers are B's to use
        const { type, body, query } = bodyFor(route);
        let call = request(app)[route.method](path).set(bearer(b.key));
        if (type) call = call.set('content-type', type);
        if (query) call = call.query(query);
        const res = await (body === undefined ? call : call.send(body as object));
        assert.equal(res.status, 404, `${route.method.toUpperCase()} ${path} as the other client: ${res.status} ${JSON.stringify(res.body)}`);
        assert.match(res.body.error.code, /_not_found$/);
      }
    }
    // The multi-task predict names tasks in its body.
    const multi = await request(app)
      .post('/v1/predict')
      .set(bearer(b.key))
      .send({ input: 'Will it rain?', tasks: [ids.task] });
    assert.equal(multi.status, 404, JSON.stringify(multi.body));
    const list = await request(app).get('/v1/tasks').set(bearer(b.key)).expect(200);
    assert.deepEqual(
      list.body.data.map((t: { id: string }) => t.id),
      [ownTask],
      'the other client lists only its own tasks',
    );
    assert.equal(await snapshot(), before, "the owner's records are unchanged");
  });

  test(`${name}: example ids are numbered per task: a client's ids say nothing of another client's uploads`, async () => {
    const { app, a, b } = await setup;
    const taskOf = async (key: string) => (await request(app).post('/v1/tasks').set(bearer(key)).send({ name: 'numbered' }).expect(201)).body.id as string;
    const add = (key: string, task: string, texts: string[]) =>
      request(app)
        .post(`/v1/tasks/${task}/examples`)
        .set(bearer(key))
        .set('content-type', 'application/x-ndjson')
        .send(jsonl(texts.map((text) => ({ text, label: 'weather' }))))
        .expect(201);
    const [theirs, mine] = [await taskOf(a.key), await taskOf(b.key)];
    await add(b.key, mine, ['b one', 'b two']);
    await add(a.key, theirs, ['a one', 'a two', 'a three']);
    await add(b.key, mine, ['b three']);
    const listed = (await request(app).get(`/v1/tasks/${mine}/examples`).set(bearer(b.key)).expect(200)).body.data;
    assert.deepEqual(
      listed.map((e: { id: number; text: string }) => [e.id, e.text]),
      [
        [1, 'b one'],
        [2, 'b two'],
        [3, 'b three'],
      ],
      "the other client's upload in between left no gap",
    );
  });

  test(`${name}: missing, malformed, mistyped and revoked keys get 401; keys without the scope get 403; health answers without a key`, async () => {
    const { app, a, service } = await setup;
    for (const path of ['/healthz', '/readyz', '/metrics']) assert.equal((await request(app).get(path)).status, 200, path);
    for (const route of service.app.docs.routes.filter((r) => r.scope !== 'public')) {
      const path = route.path.replace(/:(\w+)/g, 'x');
      const res = await request(app)[route.method](path);
      assert.equal(res.status, 401, `${route.method.toUpperCase()} ${route.path} without a key`);
      assert.equal(res.body.error.code, 'missing_api_key');
      assert.equal(res.headers['www-authenticate'], 'Bearer');
    }
    const [, id] = a.key.split('.');
    for (const header of ['Basic abc', 'Bearer', 'Bearer a b', 'Bearer tfd.x', `Bearer tfd.${id}.wrong-secret`, `Bearer ${a.key}x`, `Bearer ${ADMIN}x`]) {
      const res = await request(app).get('/v1/tasks').set('authorization', header);
      assert.equal(res.status, 401, header);
      assert.equal(res.body.error.code, 'invalid_api_key', header);
    }
    const readOnly = await issue(app, a.id, ['read']);
    const predictOnly = await issue(app, a.id, ['predict']);
    assert.equal((await request(app).get('/v1/tasks').set(bearer(readOnly.key))).status, 200);
    const refused = await request(app).post('/v1/tasks').set(bearer(readOnly.key)).send({ name: 'nope' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'insufficient_scope');
    assert.equal((await request(app).post('/v1/embeddings').set(bearer(predictOnly.key)).send({ input: 'x' })).status, 403);
    assert.equal((await request(app).get('/v1/admin/clients').set(bearer(a.key))).status, 403, 'a client key is no admin key');
    assert.equal((await request(app).get('/v1/tasks').set(bearer(ADMIN))).status, 403, 'the admin key acts for no client');
    // Revoked: refused at once on this replica.
    await request(app).delete(`/v1/admin/clients/${a.id}/keys/${readOnly.id}`).set(bearer(ADMIN)).expect(200);
    assert.equal((await request(app).get('/v1/tasks').set(bearer(readOnly.key))).status, 401);
    const keys = await request(app).get(`/v1/admin/clients/${a.id}/keys`).set(bearer(ADMIN)).expect(200);
    assert.ok(
      keys.body.data.every((k: Record<string, unknown>) => k.key === undefined),
      'listed keys never show the key',
    );
    assert.ok(keys.body.data.some((k: { id: string; revoked_at: string | null }) => k.id === readOnly.id && k.revoked_at !== null));
  });

  test(`${name}: the openai client works with a client key as its apiKey, and reports a wrong one as an authentication error`, async () => {
    const { app, a } = await setup;
    const { url } = await listen(app);
    const ok = await new OpenAI({ baseURL: `${url}/v1`, apiKey: a.key }).embeddings.create({ model: 'all-MiniLM-L6-v2', input: 'hello' });
    assert.equal(ok.data.length, 1);
    await assert.rejects(
      new OpenAI({ baseURL: `${url}/v1`, apiKey: 'tfd.nope.nope', maxRetries: 0 }).embeddings.create({ model: 'all-MiniLM-L6-v2', input: 'x' }),
      (e: unknown) => e instanceof OpenAI.AuthenticationError,
    );
  });

  test(`${name}: quotas refuse what would pass them (403, nothing written); rate limits answer 429 with Retry-After`, async () => {
    const { app } = await setup;
    const small = await client(app, `${name}-small`, undefined, { max_tasks: 1, max_examples: 30, requests_per_minute: 600, tokens_per_minute: 60 });
    await request(app).post('/v1/tasks').set(bearer(small.key)).send({ name: 'one' }).expect(201);
    const second = await request(app).post('/v1/tasks').set(bearer(small.key)).send({ name: 'two' });
    assert.equal(second.status, 403);
    assert.equal(second.body.error.code, 'quota_exceeded');
    assert.equal(second.body.error.limit, 'max_tasks');
    const tasks = (await request(app).get('/v1/tasks').set(bearer(small.key)).expect(200)).body.data;
    assert.equal(tasks.length, 1, 'the refused task was not created');
    const upload = await request(app)
      .post(`/v1/tasks/${tasks[0].id}/examples`)
      .set(bearer(small.key))
      .set('content-type', 'application/x-ndjson')
      .send(jsonl(intents(10)));
    assert.equal(upload.status, 403, '40 examples over a quota of 30');
    assert.equal((await request(app).get(`/v1/tasks/${tasks[0].id}`).set(bearer(small.key))).body.example_count, 0);
    // Tokens: a long text takes the bucket (60 a minute) into debt; the next encoding request waits.
    const long = 'word '.repeat(200);
    assert.equal((await request(app).post('/v1/embeddings').set(bearer(small.key)).send({ input: long })).status, 200);
    const shed = await request(app).post('/v1/embeddings').set(bearer(small.key)).send({ input: 'short' });
    assert.equal(shed.status, 429);
    assert.equal(shed.body.error.code, 'rate_limited');
    assert.ok(Number(shed.headers['retry-after']) >= 60, `Retry-After ${shed.headers['retry-after']}: the debt takes minutes to repay`);
    // Requests: 600 a minute (10 a second) with a 10-second burst: at most 100 at once plus what refills meanwhile.
    let accepted = 0;
    let refused = 0;
    const started = Date.now();
    for (let i = 0; i < 160; i++) {
      const res = await request(app).get('/v1/tasks').set(bearer(small.key));
      if (res.status === 429) {
        refused++;
        assert.equal(res.body.error.code, 'rate_limited');
        assert.ok(Number(res.headers['retry-after']) >= 1);
      } else accepted++;
    }
    const refill = (10 * (Date.now() - started)) / 1000;
    assert.ok(refused > 0, 'some requests were refused');
    assert.ok(accepted <= 100 + refill + 1, `${accepted} accepted; the bucket allows at most ${Math.floor(100 + refill)}`);
    const usage = (await request(app).get(`/v1/admin/clients/${small.id}`).set(bearer(ADMIN)).expect(200)).body.usage;
    assert.deepEqual(usage, { tasks: 1, examples: 0, pool_texts: 0, stored_bytes: 0, running_jobs: 0, active_jobs: 0 });
  });

  test(`${name}: deleting a client deletes its records, and its keys stop working`, async () => {
    const { app } = await setup;
    const gone = await client(app, `${name}-gone`);
    const task = await request(app).post('/v1/tasks').set(bearer(gone.key)).send({ name: 'doomed' }).expect(201);
    await request(app).delete(`/v1/admin/clients/${gone.id}`).set(bearer(ADMIN)).expect(204);
    assert.equal((await request(app).get(`/v1/tasks/${task.body.id}`).set(bearer(gone.key))).status, 401);
    assert.equal((await request(app).get(`/v1/admin/clients/${gone.id}`).set(bearer(ADMIN))).status, 404);
  });
}
