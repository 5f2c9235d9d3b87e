/**
 * Predictions: one task (its active version, or a pinned one), several tasks
 * at once over shared features, and evaluation of a version on a labelled set.
 */
import { z } from 'zod';
import { DomainError, isDomainError } from '../../errors.js';
import { multiOut, predictOut } from '../schemas/prediction.js';
import { appliedPriorOut } from '../schemas/pool.js';
import { confusionMatrixOut, perLabelOut } from '../schemas/metrics.js';
import { predictionsJson, thresholdsOf } from '../resource-json.js';
import { DEFAULT_THRESHOLD, multiLabelScores } from '../../heads/multi-label.js';
import type { VersionRecord } from '../../store/types.js';
import { MAX_LABELS_PER_EXAMPLE } from '../uploads.js';
import { argmaxRows, computeMetrics } from '../../heads/evaluation.js';
import type { PredictionService, Target } from '../../serving/predictions.js';
import { clientGone } from '../encoding.js';
import { type Route, route } from '../route.js';
import { MAX_VERSION, taskParam } from '../schemas/params.js';
import { stored } from '../schemas/stored-text.js';
import { type TextLimits, textInput, texts } from '../schemas/text-input.js';
import { priorJson } from '../../serving/zero-shot.js';

/** A zero-shot version's prior, where it applies one, as a response field. */
const priorField = (target: Target) => {
  const prior = priorJson(target.version);
  return prior ? { prior } : {};
};

const versionField = z.number().int().min(1).max(MAX_VERSION).optional().describe('Pin a version; default: the active one.');
/** Task ids go to the store: no NUL or lone surrogate (stored-text.ts). */
const taskId = stored(z.string().min(1).max(256));
const topK = z.number().int().min(1).optional().describe('Return only the k most probable labels per text (default: every label).');

const evalText = (limits: TextLimits) => z.string().min(1, 'must not be empty').max(limits.maxInputChars);

function predictSchemas(limits: TextLimits) {
  return {
    predict: z.object({ input: textInput(limits).describe('Text or texts to label.'), version: versionField, top_k: topK }).strict(),
    multi: z
      .object({
        input: textInput(limits).describe('Text or texts to label.'),
        tasks: z
          .array(z.union([taskId, z.object({ task: taskId, version: versionField }).strict()]))
          .min(1, 'name at least one task')
          .max(100)
          .describe('Task ids, or {task, version} to pin a version.'),
        top_k: topK,
      })
      .strict(),
    evaluate: z
      .object({
        examples: z
          .array(
            z.union([
              z.object({ text: evalText(limits), label: z.string().min(1).describe('Single-label tasks.') }).strict(),
              z
                .object({
                  text: evalText(limits),
                  labels: z
                    .array(z.string().min(1))
                    .max(MAX_LABELS_PER_EXAMPLE)
                    .describe('Multi-label tasks: the whole true set (may be empty: the text has none of the labels).'),
                })
                .strict(),
            ]),
          )
          .min(1, 'send at least one labelled example')
          .max(limits.maxInputs, `holds more than ${limits.maxInputs} examples`),
        version: versionField,
      })
      .strict(),
  };
}

const unknownLabels = z.array(z.string()).describe('Labels of the set the version was not trained on: counted, as labels it can only get wrong.');
const singleLabelEvaluation = z.object({
  object: z.literal('evaluation'),
  task: z.string(),
  kind: z.literal('single_label'),
  version: z.number().int(),
  prior: appliedPriorOut.optional(),
  unknown_labels: unknownLabels,
  accuracy: z.number(),
  macro_f1: z.number(),
  per_label: z.array(perLabelOut),
  confusion_matrix: confusionMatrixOut,
  n: z.number().int(),
});
const multiLabelEvaluation = z.object({
  object: z.literal('evaluation'),
  task: z.string(),
  kind: z.literal('multi_label'),
  version: z.number().int(),
  unknown_labels: unknownLabels,
  micro_f1: z.number(),
  macro_f1: z.number().describe("Mean of the labels' F1: the version's labels and the set's unknown ones."),
  subset_accuracy: z.number().describe('Share of the texts whose whole predicted set is right.'),
  hamming_loss: z.number().describe('Share of wrong (text, label) decisions.'),
  per_label: z.array(
    perLabelOut.extend({
      support: z.number().int().describe('Texts with the label.'),
      threshold: z.number().nullable().describe("The version's threshold for the label; null for an unknown label (never predicted)."),
    }),
  ),
  n: z.number().int(),
});
const evaluationOut = z
  .union([singleLabelEvaluation, multiLabelEvaluation])
  .describe(
    'Single-label tasks: accuracy, macro-F1 and the confusion matrix; multi-label tasks: micro- and macro-F1, subset accuracy and Hamming loss, each label predicted at its threshold.',
  );

/**
 * A multi-label version's scores on labelled texts: each label predicted where its probability reaches the
 * version's threshold (0.5 for a version trained without an evaluation); labels the version never saw are
 * columns it never predicts.
 */
function multiLabelEvaluationOf(probabilities: Float32Array, version: VersionRecord, truthSets: string[][], labels: string[]) {
  const known = version.labels.length;
  const k = labels.length;
  const n = truthSets.length;
  const own = thresholdsOf(version) ?? new Array<number>(known).fill(DEFAULT_THRESHOLD);
  const index = new Map(labels.map((l, i) => [l, i]));
  const truth = new Uint8Array(n * k);
  const predicted = new Uint8Array(n * k);
  for (const [i, set] of truthSets.entries()) for (const l of set) truth[i * k + index.get(l)!] = 1;
  for (let i = 0; i < n; i++) for (let c = 0; c < known; c++) predicted[i * k + c] = probabilities[i * known + c]! >= own[c]! ? 1 : 0;
  const thresholds = Float32Array.from(labels, (_, c) => (c < known ? own[c]! : Number.NaN));
  const rows = Array.from({ length: n }, (_, i) => i);
  const scores = multiLabelScores(truth, predicted, labels, rows, thresholds);
  return { ...scores, per_label: scores.per_label.map((l, c) => ({ ...l, threshold: c < known ? l.threshold : null })) };
}

export function predictRoutes(predictions: PredictionService, limits: TextLimits): Route[] {
  const s = predictSchemas(limits);
  /** The version answering for `task`; `where` names the task's place in a multi-task request. */
  const targetOf = (client: string, task: string, version: number | undefined, where?: string) =>
    predictions.target(client, task, version).catch((err: unknown) => {
      throw where && isDomainError(err) ? err.at(err.param === 'version' ? `${where}.version` : where) : err;
    });
  return [
    route({
      method: 'post',
      path: '/v1/tasks/:task/predict',
      tag: 'predict',
      scope: 'predict',
      summary: "Label texts with the task's active (or a pinned) version.",
      params: { task: taskParam },
      body: s.predict,
      responses: { 200: { description: 'Predictions in input order.', schema: predictOut }, 409: { description: 'The task has no active version.' } },
      handler: async ({ params, body, client, res, chargeTokens }) => {
        const target = await targetOf(client, params.task, body.version);
        const inputs = texts(body.input);
        const { scored, tokens, encoded } = await predictions.score([target], inputs, { signal: clientGone(res) });
        await chargeTokens(tokens);
        res.json({
          object: 'list',
          task: target.task.id,
          kind: target.task.kind,
          version: target.version.number,
          ...priorField(target),
          data: predictionsJson(scored[0]!.probabilities, target.version, inputs.length, body.top_k),
          usage: { prompt_tokens: tokens, encoded_texts: encoded },
        } satisfies z.infer<typeof predictOut>);
      },
    }),
    route({
      method: 'post',
      path: '/v1/predict',
      tag: 'predict',
      scope: 'predict',
      summary: 'Label texts with several tasks: the encoder runs once per distinct feature spec.',
      body: s.multi,
      responses: { 200: { description: 'Predictions per task.', schema: multiOut }, 409: { description: 'A task has no active version.' } },
      handler: async ({ body, client, res, chargeTokens }) => {
        const inputs = texts(body.input);
        const targets: Target[] = [];
        for (const [i, t] of body.tasks.entries()) {
          const { task, version } = typeof t === 'string' ? { task: t, version: undefined } : t;
          targets.push(await targetOf(client, task, version, `tasks[${i}]`));
        }
        const { scored, tokens, encoded } = await predictions.score(targets, inputs, { signal: clientGone(res) });
        await chargeTokens(tokens);
        res.json({
          object: 'list',
          data: scored.map(({ target, probabilities }) => ({
            task: target.task.id,
            kind: target.task.kind,
            version: target.version.number,
            ...priorField(target),
            predictions: predictionsJson(probabilities, target.version, inputs.length, body.top_k),
          })),
          usage: { prompt_tokens: tokens, encoded_texts: encoded },
        } satisfies z.infer<typeof multiOut>);
      },
    }),
    route({
      method: 'post',
      path: '/v1/tasks/:task/evaluate',
      tag: 'predict',
      scope: 'predict',
      summary: "Evaluate the task's active (or a pinned) version on a labelled set (multi-label tasks: each text with its label set).",
      params: { task: taskParam },
      body: s.evaluate,
      responses: { 200: { description: 'Metrics of the version on the set.', schema: evaluationOut }, 409: { description: 'The task has no active version.' } },
      handler: async ({ params, body, client, res, chargeTokens }) => {
        const target = await targetOf(client, params.task, body.version);
        const multi = target.task.kind === 'multi_label';
        for (const [i, e] of body.examples.entries()) {
          if (multi !== 'labels' in e)
            throw new DomainError(
              'invalid_value',
              multi ? 'this task is multi-label: give each example labels, a list' : 'this task is single-label: give each example one label',
              `examples[${i}].${multi ? 'label' : 'labels'}`,
            );
        }
        const inputs = body.examples.map((e) => e.text);
        const { scored, tokens } = await predictions.score([target], inputs, { signal: clientGone(res) });
        await chargeTokens(tokens);
        const known = target.version.labels;
        const truthOf = (e: (typeof body.examples)[number]) => ('labels' in e ? e.labels : [e.label]);
        // Labels the version never saw still count, as labels it can only get wrong.
        const unknown = [...new Set(body.examples.flatMap(truthOf).filter((l) => !known.includes(l)))];
        const labels = [...known, ...unknown];
        const head = { object: 'evaluation' as const, task: target.task.id, version: target.version.number, unknown_labels: unknown };
        if (multi) {
          res.json({
            ...head,
            kind: 'multi_label',
            ...multiLabelEvaluationOf(scored[0]!.probabilities, target.version, body.examples.map(truthOf), labels),
          } satisfies z.infer<typeof evaluationOut>);
          return;
        }
        const index = new Map(labels.map((l, i) => [l, i]));
        const truth = Int32Array.from(body.examples, (e) => index.get(truthOf(e)[0]!)!);
        const predicted = argmaxRows(scored[0]!.probabilities, inputs.length, known.length);
        res.json({
          ...head,
          kind: 'single_label',
          ...priorField(target),
          ...computeMetrics(truth, predicted, labels),
        } satisfies z.infer<typeof evaluationOut>);
      },
    }),
  ];
}
