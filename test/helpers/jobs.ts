/** Helpers for tests that train through the API. */
import type { Express } from 'express';
import request from 'supertest';
import { jsonl, type LabelledText } from './fixtures.js';

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

export interface JobJson {
  id: string;
  state: string;
  progress: { phase: string; percent: number };
  timings: Array<{ phase: string; ms: number }>;
  error: { code: string; message: string } | null;
  version: number | null;
  cancel_requested: boolean;
}

/** Polls a job until it ends (or `timeoutMs` passes) and returns its last state. */
export async function waitForJob(app: Express, taskId: string, jobId: string, timeoutMs = 120_000): Promise<JobJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await request(app).get(`/v1/tasks/${taskId}/jobs/${jobId}`).expect(200)).body as JobJson;
    if (['succeeded', 'failed', 'cancelled'].includes(job.state)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a job and waits for it to end. */
export async function train(app: Express, taskId: string, body: object = {}): Promise<JobJson> {
  const started = await request(app).post(`/v1/tasks/${taskId}/jobs`).send(body).expect(202);
  return waitForJob(app, taskId, started.body.id);
}
