/**
 * The prediction service's memory follows its bounds, not its history: tasks
 * served once are not kept forever, and a task dropped from the cache is
 * simply read again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FeatureService } from '../../src/features/feature-service.js';
import type { PredictPool } from '../../src/serving/predict-pool.js';
import { PredictionService } from '../../src/serving/predictions.js';
import type { Store, TaskRecord, VersionRecord } from '../../src/store/types.js';

const spec = { model: 'm', layers: [6], layerCombine: 'concat' as const, pooling: 'mean' as const, normalize: true };

/** A store that knows every task (version 1 active) and counts its task reads. */
function fakeStore() {
  const reads = { tasks: 0 };
  const store = {
    onTaskChange: () => () => undefined,
    getTask: async (clientId: string, id: string): Promise<TaskRecord> => {
      reads.tasks++;
      return {
        id,
        clientId,
        name: id,
        description: null,
        spec,
        kind: 'single_label',
        labels: [],
        activeVersion: 1,
        exampleCount: 0,
        retrainAfter: null,
        newExamples: 0,
        poolCount: 0,
        poolRevision: 0,
        labelPrior: null,
        createdAt: 0,
        updatedAt: 0,
      };
    },
    getVersion: async (clientId: string, taskId: string, number: number): Promise<VersionRecord> => ({
      id: `ver_${taskId}_${number}`,
      clientId,
      taskId,
      number,
      headType: 'svm',
      params: {},
      spec,
      labels: ['a', 'b'],
      metrics: {},
      report: {},
      exampleCount: 0,
      trainingMs: 0,
      jobId: null,
      createdAt: 0,
      artifactBytes: 0,
      tuned: null,
    }),
  };
  return { store: store as unknown as Store, reads };
}

test('the task cache stays within its bound after thousands of tasks; a dropped task is read again', async () => {
  const { store, reads } = fakeStore();
  const service = new PredictionService(store, {} as FeatureService, {} as PredictPool, { activeTtlMs: 3_600_000, artifactCacheBytes: 1e6, maxTasks: 100 });
  try {
    for (let i = 0; i < 3000; i++) assert.equal((await service.target('default', `task_${i}`)).version.number, 1);
    assert.ok(service.cachedTasks <= 100, `${service.cachedTasks} tasks cached`);
    const before = reads.tasks;
    await service.target('default', 'task_2999');
    assert.equal(reads.tasks, before, 'a recent task is served from memory');
    await service.target('default', 'task_0');
    assert.equal(reads.tasks, before + 1, 'an old one is read from the store again');
  } finally {
    service.close();
  }
});
