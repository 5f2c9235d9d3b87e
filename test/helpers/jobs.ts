/** Helpers for tests that train through the API. */
import type { Express } from 'express';
import request from 'supertest';
import type { z } from 'zod';
import type { jobOut } from '../../src/http/schemas/job.js';
import { jsonl, type LabelledText } from './fixtures.js';
import { call } from './http.js';

export async function createTask(app: Express, name: string, rows: LabelledText[], featureSpec?: object): Promise<string> {
  const task = (
    await request(app)
      .post('/v1/tasks')
      .send({ name, ...(featureSpec ? { feature_spec: featureSpec } : {}) })
      .expect(201)
  ).body;
  if (rows.length) await request(app).post(`/v1/tasks/${task.id}/examples`).set('content-type', 'application/x-ndjson').send(jsonl(rows)).expect(201);
  return task.id as string;
}

/** A job as the API answers it. */
export type JobJson = z.infer<typeof jobOut>;

/**
 * Polls a job until it ends (or `timeoutMs` passes) and returns its last
 * state: through an in-process app, or over HTTP to a running service (a
 * base URL such as a replica's or nginx's).
 */
export async function waitForJob(target: Express | string, taskId: string, jobId: string, timeoutMs = 120_000, key?: string): Promise<JobJson> {
  const path = `/v1/tasks/${taskId}/jobs/${jobId}`;
  const auth: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  const get =
    typeof target === 'string' ? () => call(target, 'GET', path, undefined, 'application/json', auth) : async () => await request(target).get(path).set(auth);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await get();
    const job = r.body as JobJson;
    if (r.status === 200 && ['succeeded', 'failed', 'cancelled'].includes(job.state)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not end in ${timeoutMs} ms: ${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** Starts a job and waits for it to end. */
export async function train(app: Express, taskId: string, body: object = {}, timeoutMs?: number): Promise<JobJson> {
  const started = await request(app).post(`/v1/tasks/${taskId}/jobs`).send(body).expect(202);
  return waitForJob(app, taskId, started.body.id, timeoutMs);
}
