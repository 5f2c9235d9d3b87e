import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { DEFAULT_INT8_MODEL, DEFAULT_MODEL } from '../../src/config.js';
import { cosine, testApp } from '../helpers/app.js';
import { intents } from '../helpers/fixtures.js';
import { createTask, waitForJob } from '../helpers/jobs.js';

// This file loads the int8 model beside the default one, as TRANSFERD_MODELS=all-MiniLM-L6-v2,all-MiniLM-L6-v2-int8 would.
const { app } = await testApp({ models: [DEFAULT_MODEL, DEFAULT_INT8_MODEL] });

test('/v1/embeddings serves the int8 model by name, close to fp32 at every layer asked', async () => {
  const input = ['I still have not received my new card', 'What is the capital of Australia?'];
  for (const layers of [3, -1]) {
    const [fp32, int8] = await Promise.all(
      [DEFAULT_MODEL, DEFAULT_INT8_MODEL].map(async (model) => (await request(app).post('/v1/embeddings').send({ model, input, layers }).expect(200)).body),
    );
    assert.equal(int8.model, DEFAULT_INT8_MODEL);
    for (const i of [0, 1]) {
      const c = cosine(fp32.data[i].embedding, int8.data[i].embedding);
      assert.ok(c > 0.98 && c < 1, `layer ${layers}, text ${i}: cosine ${c}`);
    }
  }
  const models = (await request(app).get('/v1/models').expect(200)).body.data.map((m: { id: string }) => m.id);
  assert.deepEqual(models.sort(), [DEFAULT_MODEL, DEFAULT_INT8_MODEL].sort());
});

test('a task whose feature spec names the int8 model trains and predicts on its features', async () => {
  const task = await createTask(app, 'int8-intents', intents(8), { model: DEFAULT_INT8_MODEL });
  const job = (
    await request(app)
      .post(`/v1/tasks/${task}/jobs`)
      .send({ head: 'logistic_regression', evaluation: { method: 'cv', folds: 2 } })
      .expect(202)
  ).body;
  const done = await waitForJob(app, task, job.id);
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  const version = (await request(app).get(`/v1/tasks/${task}/versions/1`).expect(200)).body;
  assert.equal(version.feature_spec.model, DEFAULT_INT8_MODEL);
  const predicted = (await request(app).post(`/v1/tasks/${task}/predict`).send({ input: 'my card has not arrived yet' }).expect(200)).body;
  assert.equal(predicted.data.length, 1);
});
