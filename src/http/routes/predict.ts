/**
 * Predictions: one task (its active version, or a pinned one), several tasks
 * at once over shared features, and evaluation of a version on a labelled set.
 */
import { z } from 'zod';
import { DomainError, isDomainError } from '../../errors.js';
import { multiOut, predictOut } from '../schemas/prediction.js';
import { appliedPriorOut } from '../schemas/pool.js';
import { confusionMatrixOut, perLabelOut } from '../schemas/metrics.js';
import { predictionsJson } from '../resource-json.js';
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
          .array(z.object({ text: z.string().min(1, 'must not be empty').max(limits.maxInputChars), label: z.string().min(1) }).strict())
          .min(1, 'send at least one labelled example')
          .max(limits.maxInputs, `holds more than ${limits.maxInputs} examples`),
        version: versionField,
      })
      .strict(),
  };
}

const evaluationOut = z.object({
  object: z.literal('evaluation'),
  task: z.string(),
  version: z.number().int(),
  prior: appliedPriorOut.optional(),
  unknown_labels: z.array(z.string()).describe('Labels of the set the version was not trained on: counted, as rows it can only get wrong.'),
  accuracy: z.number(),
  macro_f1: z.number(),
  per_label: z.array(perLabelOut),
  confusion_matrix: confusionMatrixOut,
  n: z.number().int(),
});

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
      summary: "Evaluate the task's active (or a pinned) version on a labelled set.",
      params: { task: taskParam },
      body: s.evaluate,
      responses: { 200: { description: 'Metrics of the version on the set.', schema: evaluationOut }, 409: { description: 'The task has no active version.' } },
      handler: async ({ params, body, client, res, chargeTokens }) => {
        const target = await targetOf(client, params.task, body.version);
        if (target.task.kind === 'multi_label')
          throw new DomainError(
            'invalid_value',
            "evaluating on a labelled set is for single-label tasks; a multi-label version's report has its cross-validated scores",
            'examples',
          );
        const inputs = body.examples.map((e) => e.text);
        const { scored, tokens } = await predictions.score([target], inputs, { signal: clientGone(res) });
        await chargeTokens(tokens);
        const known = target.version.labels;
        // Labels the version never saw still count, as rows it can only get wrong.
        const unknown = [...new Set(body.examples.map((e) => e.label).filter((l) => !known.includes(l)))];
        const labels = [...known, ...unknown];
        const index = new Map(labels.map((l, i) => [l, i]));
        const truth = Int32Array.from(body.examples, (e) => index.get(e.label)!);
        const predicted = argmaxRows(scored[0]!.probabilities, inputs.length, known.length);
        res.json({
          object: 'evaluation',
          task: target.task.id,
          version: target.version.number,
          ...priorField(target),
          unknown_labels: unknown,
          ...computeMetrics(truth, predicted, labels),
        } satisfies z.infer<typeof evaluationOut>);
      },
    }),
  ];
}
