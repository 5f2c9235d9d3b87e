/**
 * Multi-task training: several single-label tasks of one client trained
 * together (src/training/multitask.ts). The job belongs to the first task
 * named, and is read, followed and cancelled there like any job; it writes a
 * version to every task, all or none, when it ends.
 */
import { z } from 'zod';
import { specKey } from '../../encoder/feature-spec.js';
import type { ModelRegistry } from '../../encoder/registry.js';
import { DomainError, isDomainError } from '../../errors.js';
import { mlpParamsSchema } from '../../heads/mlp/params.js';
import { countsByLabel } from '../../store/label-set.js';
import type { Store, TaskRecord } from '../../store/types.js';
import { checkFoldable, checkTrainable, smallestDimension } from '../../training/plan.js';
import { evaluationSchema, seedField, type TrainingRequest } from '../../training/request.js';
import { taskOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { stored } from '../schemas/stored-text.js';
import { jobOut } from '../schemas/job.js';
import { jobJson } from '../resource-json.js';

/** Most tasks one job trains together. */
export const MAX_MULTITASK_TASKS = 16;

const multitaskBody = z
  .object({
    tasks: z
      .array(stored(z.string().min(1).max(256)))
      .min(2)
      .max(MAX_MULTITASK_TASKS)
      .describe('Task ids, each once: single-label tasks of this client with one feature spec. The job belongs to the first.'),
    params: mlpParamsSchema.prefault({}).describe("The MLP's parameters: its hidden layers are shared by every task, each task has its own output layer."),
    evaluation: evaluationSchema.default({ method: 'cv', folds: 5 }),
    activate: z.boolean().default(true).describe("Make each task's new version active when the job succeeds."),
    seed: seedField.describe('Seeds folds, initial weights and batches.'),
  })
  .strict();

export interface MultitaskDeps {
  store: Store;
  models: ModelRegistry;
  maxAttempts: number;
  wake: () => void;
}

export function multitaskRoutes({ store, models, maxAttempts, wake }: MultitaskDeps): Route[] {
  return [
    route({
      method: 'post',
      path: '/v1/multitask-jobs',
      tag: 'training',
      scope: 'train',
      summary: 'Train several tasks together: shared hidden layers, one output layer and one version per task.',
      description:
        "Each task's version is an ordinary mlp version (the shared layers and its own output layer), usable alone. Its metrics are the joint network's, cross-validated; its report's `multitask` entry puts them beside the same MLP trained on the task alone, on the same folds. The job is the first task's: GET, follow and cancel it under /v1/tasks/{task}/jobs/{job}.",
      body: multitaskBody,
      responses: {
        202: { description: "Queued; Location is the job under the first task's jobs.", schema: jobOut, headers: { Location: 'The job.' } },
        409: { description: 'A task cannot be trained as asked (no examples, a single label, too few examples of a label), or its model is not loaded.' },
      },
      handler: async ({ body, client, res }) => {
        const at = (i: number) => (err: unknown) => {
          throw isDomainError(err) ? err.at(`tasks[${i}]`) : err;
        };
        const seen = new Set<string>();
        const tasks: TaskRecord[] = [];
        for (const [i, id] of body.tasks.entries()) {
          if (seen.has(id)) throw new DomainError('invalid_value', `task "${id}" is named twice`, `tasks[${i}]`);
          seen.add(id);
          tasks.push(await taskOf(store, client, id).catch(at(i)));
        }
        const first = tasks[0]!;
        for (const [i, t] of tasks.entries()) {
          if (t.kind !== 'single_label')
            throw new DomainError('invalid_value', `task ${t.id} is multi-label; multi-task training takes single-label tasks`, `tasks[${i}]`);
          if (specKey(t.spec) !== specKey(first.spec))
            throw new DomainError(
              'invalid_value',
              `task ${t.id} has another feature spec than task ${first.id}; tasks trained together share one`,
              `tasks[${i}]`,
            );
        }
        const manifest = models.get(first.spec.model)?.manifest;
        if (!manifest) throw new DomainError('model_unavailable', `the tasks' model ${first.spec.model} is not loaded`);
        const request: TrainingRequest = {
          tasks: tasks.map((t) => t.id),
          head: { type: 'mlp', params: body.params, search: false },
          evaluation: body.evaluation,
          layerSweep: null,
          activate: body.activate,
          seed: body.seed,
        };
        const dim = smallestDimension([first.spec], manifest.hiddenSize);
        for (const [i, t] of tasks.entries()) {
          try {
            const counts = countsByLabel(t.kind, await store.labelCounts(t.clientId, t.id));
            checkTrainable(counts, request, dim, t.kind);
            checkFoldable(counts, request.evaluation);
          } catch (err) {
            at(i)(err);
          }
        }
        const job = await store.createJob({ clientId: first.clientId, taskId: first.id, request, maxAttempts });
        wake();
        res.status(202).location(`/v1/tasks/${first.id}/jobs/${job.id}`).json(jobJson(job));
      },
    }),
  ];
}
