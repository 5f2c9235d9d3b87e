/**
 * What a version's evaluation saw, example by example: the out-of-fold
 * predictions behind its confusion matrix (a cell's misclassified examples),
 * and the 2-D map of the examples its head was trained on. Both were computed
 * by the training job and stored with the version; texts are read now, so an
 * example deleted since is listed without its text.
 */
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import type { Store, TaskRecord, VersionEvaluation, VersionRecord } from '../../store/types.js';
import { versionOf } from '../resources.js';
import { type Route, route } from '../route.js';
import { listEnvelope, listJson } from '../schemas/common.js';
import { taskParam, versionParam } from '../schemas/params.js';
import { evaluationRowOut, MAP_TEXT_CHARS, mapOut } from '../schemas/evaluation.js';
import { stored } from '../schemas/stored-text.js';

/** The first `n` UTF-16 units of `s`, without a surrogate pair cut in half. */
const clip = (s: string, n: number) => {
  const head = s.slice(0, n);
  return /[\ud800-\udbff]$/.test(head) ? head.slice(0, -1) : head;
};

const evaluationQuery = z
  .object({
    true_label: stored(z.string().min(1)).optional().describe('Only examples with this label (when the version was trained; multi-label: whose set had it).'),
    predicted_label: stored(z.string().min(1)).optional().describe('Only examples predicted as this label (multi-label: whose predicted set has it).'),
    errors_only: z
      .enum(['true', 'false'])
      .default('false')
      .describe('true: only examples whose prediction is wrong (multi-label: whose predicted set is not exactly right).'),
    limit: z.coerce.number().int().min(1).max(1000).default(100).describe('Items per page (1..1000, default 100).'),
    after: z.coerce.number().int().min(0).optional().describe("next_after of the previous page (a training row's position)."),
  })
  .strict();

/** Which training rows a single-label version's listing keeps: held out, and matching the filters. */
function singleLabelFilter(evaluation: VersionEvaluation, truth: number | undefined, predictedAs: number | undefined, errorsOnly: boolean) {
  return (i: number) => {
    const p = evaluation.predicted[i]!;
    const t = evaluation.truth[i]!;
    return !(p < 0 || (truth !== undefined && t !== truth) || (predictedAs !== undefined && p !== predictedAs) || (errorsOnly && p === t));
  };
}

/** The same for a multi-label version: a label filter keeps the rows whose set has the label; an error is a set not exactly right. */
function multiLabelFilter(
  version: VersionRecord,
  evaluation: VersionEvaluation,
  truth: number | undefined,
  predictedAs: number | undefined,
  errorsOnly: boolean,
) {
  const { truthSets, predictedSets } = evaluation;
  if (!truthSets || !predictedSets)
    throw new DomainError(
      'evaluation_not_stored',
      `version ${version.number} was trained before multi-label versions kept their examples' out-of-fold sets; train again to see them`,
      'version',
    );
  return (i: number) => {
    const p = predictedSets[i];
    const t = truthSets[i]!;
    if (!p || (truth !== undefined && !t.includes(truth)) || (predictedAs !== undefined && !p.includes(predictedAs))) return false;
    return !errorsOnly || p.length !== t.length || p.some((c, j) => c !== t[j]);
  };
}

export function evaluationRoutes(store: Store): Route[] {
  const params = { task: taskParam, version: versionParam };
  const evaluationOf = async (
    client: string,
    taskId: string,
    number: number,
  ): Promise<{ task: TaskRecord; version: VersionRecord; evaluation: VersionEvaluation }> => {
    const { task, version } = await versionOf(store, client, taskId, number);
    const evaluation = await store.getEvaluation(task.clientId, task.id, version.number);
    if (!evaluation) {
      throw new DomainError(
        'evaluation_not_stored',
        `version ${version.number} was trained before evaluations were stored with versions; train again to see it`,
        'version',
      );
    }
    return { task, version, evaluation };
  };
  const labelIndex = (version: VersionRecord, label: string | undefined, param: string): number | undefined => {
    if (label === undefined) return undefined;
    const i = version.labels.indexOf(label);
    if (i < 0)
      throw new DomainError('unknown_label', `version ${version.number} has no label "${label}" (it has: ${version.labels.slice(0, 20).join(', ')})`, param);
    return i;
  };
  return [
    route({
      method: 'get',
      path: '/v1/tasks/:task/versions/:version/evaluation',
      tag: 'versions',
      scope: 'read',
      summary: "The version's out-of-fold predictions, example by example (what its confusion matrix counts).",
      description:
        'Every example held out during evaluation, with the label a head that never saw it predicted (multi-label versions: its set and the predicted set). Filter by true and predicted label to list the examples of one confusion-matrix cell (multi-label: the examples that have, or are predicted, a label). 404 evaluation_not_stored for versions trained before this existed.',
      params,
      query: evaluationQuery,
      responses: { 200: { description: 'A page, in training-row order.', schema: listEnvelope(evaluationRowOut) } },
      handler: async ({ params, query, client, res }) => {
        const { task, version, evaluation } = await evaluationOf(client, params.task, params.version);
        const truth = labelIndex(version, query.true_label, 'true_label');
        const predictedAs = labelIndex(version, query.predicted_label, 'predicted_label');
        const errorsOnly = query.errors_only === 'true';
        const keep =
          task.kind === 'multi_label'
            ? multiLabelFilter(version, evaluation, truth, predictedAs, errorsOnly)
            : singleLabelFilter(evaluation, truth, predictedAs, errorsOnly);
        const rows: number[] = [];
        let next: string | null = null;
        for (let i = query.after === undefined ? 0 : query.after + 1; i < evaluation.exampleIds.length; i++) {
          if (!keep(i)) continue;
          if (rows.length === query.limit) {
            next = String(rows[rows.length - 1]);
            break;
          }
          rows.push(i);
        }
        const examples = await store.examplesById(
          task.clientId,
          task.id,
          rows.map((i) => evaluation.exampleIds[i]!),
        );
        const names = (set: number[]) => set.map((c) => version.labels[c]!);
        const data = rows.map((i): z.infer<typeof evaluationRowOut> => {
          const id = evaluation.exampleIds[i]!;
          const text = examples.get(id)?.text ?? null;
          if (evaluation.truthSets)
            return { example_id: id, text, labels: names(evaluation.truthSets[i]!), predicted_labels: names(evaluation.predictedSets![i]!) };
          return { example_id: id, text, label: version.labels[evaluation.truth[i]!]!, predicted: version.labels[evaluation.predicted[i]!]! };
        });
        res.json(listJson(data, next));
      },
    }),
    route({
      method: 'get',
      path: '/v1/tasks/:task/versions/:version/map',
      tag: 'versions',
      scope: 'read',
      summary: "A 2-D map of the version's examples: PCA of the features its head was trained on.",
      description:
        'Computed by the training job on at most 2,000 examples (a sample seeded by the job when the task has more), each with its label, its out-of-fold prediction and the start of its text. 404 evaluation_not_stored for versions trained before this existed.',
      params,
      responses: { 200: { description: 'The map.', schema: mapOut } },
      handler: async ({ params, client, res }) => {
        const { task, version, evaluation } = await evaluationOf(client, params.task, params.version);
        const { map } = evaluation;
        const ids = map.rows.map((r) => evaluation.exampleIds[r]!);
        const examples = await store.examplesById(task.clientId, task.id, ids);
        const body: z.infer<typeof mapOut> = {
          object: 'example_map',
          method: map.method,
          explained_variance_ratio: map.explainedVarianceRatio,
          total: evaluation.exampleIds.length,
          points: map.rows.map((r, i) => {
            const p = evaluation.predicted[r]!;
            const text = examples.get(ids[i]!)?.text;
            return {
              example_id: ids[i]!,
              x: map.x[i]!,
              y: map.y[i]!,
              label: version.labels[evaluation.truth[r]!]!,
              predicted: p < 0 ? null : version.labels[p]!,
              text: text === undefined ? null : clip(text, MAP_TEXT_CHARS),
            };
          }),
        };
        res.json(body);
      },
    }),
  ];
}
