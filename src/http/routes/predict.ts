/**
 * Predictions: one task (its active version, or a pinned one), several tasks
 * at once over shared features, and evaluation of a version on a labelled set.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { argmaxRows, computeMetrics } from '../../heads/evaluation.js';
import { isDomainError } from '../../errors.js';
import type { PredictionService, Target } from '../../serving/predictions.js';
import { clientGone } from '../encoding.js';
import type { Operation } from '../openapi.js';
import { tenantOf } from '../tenant.js';
import { jsonBody, parse } from '../validate.js';
import { textInput, type TextLimits } from './embeddings.js';

const versionField = z.number().int().min(1).optional().describe('Pin a version; default: the active one.');
const topK = z.number().int().min(1).optional().describe('Return only the k most probable labels per text (default: every label).');

export function predictSchemas(limits: TextLimits) {
  return {
    predict: z.object({ input: textInput(limits), version: versionField, top_k: topK }).strict(),
    multi: z
      .object({
        input: textInput(limits),
        tasks: z
          .array(z.union([z.string().min(1), z.object({ task: z.string().min(1), version: versionField }).strict()]))
          .min(1, 'name at least one task')
          .max(100),
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

const prediction = z.object({ index: z.number().int(), label: z.string(), score: z.number(), probabilities: z.record(z.string(), z.number()) });
export const predictOut = z.object({
  object: z.literal('list'),
  task: z.string(),
  version: z.number().int(),
  data: z.array(prediction),
  usage: z.object({ prompt_tokens: z.number().int(), encoded_texts: z.number().int() }),
});

export function predictOperations(limits: TextLimits): Operation[] {
  const s = predictSchemas(limits);
  return [
    {
      method: 'post',
      path: '/v1/tasks/:task/predict',
      tag: 'predict',
      summary: "Label texts with the task's active (or a pinned) version.",
      body: s.predict,
      responses: { 200: { description: 'Predictions in input order.', schema: predictOut }, 409: { description: 'The task has no active version.' } },
    },
    {
      method: 'post',
      path: '/v1/predict',
      tag: 'predict',
      summary: 'Label texts with several tasks: the encoder runs once per distinct feature spec.',
      body: s.multi,
      responses: { 200: { description: 'Predictions per task.' } },
    },
    {
      method: 'post',
      path: '/v1/tasks/:task/evaluate',
      tag: 'predict',
      summary: 'Evaluate a version on a labelled set.',
      body: s.evaluate,
      responses: { 200: { description: 'accuracy, macro_f1, per_label, confusion_matrix.' } },
    },
  ];
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function predictionsJson(probabilities: Float32Array, labels: string[], n: number, topK?: number) {
  const k = labels.length;
  const best = argmaxRows(probabilities, n, k);
  const order = Array.from({ length: k }, (_, c) => c);
  return Array.from({ length: n }, (_, i) => {
    const row = probabilities.subarray(i * k, (i + 1) * k);
    const shown = topK === undefined || topK >= k ? order : [...order].sort((a, b) => row[b]! - row[a]!).slice(0, topK);
    const probs: Record<string, number> = {};
    for (const c of shown) probs[labels[c]!] = round(row[c]!);
    return { index: i, label: labels[best[i]!]!, score: round(row[best[i]!]!), probabilities: probs };
  });
}

export function predictRouter(predictions: PredictionService, limits: TextLimits): Router {
  const s = predictSchemas(limits);
  const router = Router();
  /** The version answering for `task`; `where` names the task's place in a multi-task request. */
  const targetOf = (req: Request, task: string, version: number | undefined, where?: string) =>
    predictions.target(tenantOf(req), task, version).catch((err: unknown) => {
      throw where && isDomainError(err) ? err.at(err.param === 'version' ? `${where}.version` : where) : err;
    });

  router.post('/v1/tasks/:task/predict', async (req, res) => {
    const body = parse(s.predict, jsonBody(req.body));
    const target = await targetOf(req, String(req.params.task), body.version);
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    const { scored, tokens, encoded } = await predictions.score([target], texts, { signal: clientGone(res) });
    res.json({
      object: 'list',
      task: target.task.id,
      version: target.version.number,
      data: predictionsJson(scored[0]!.probabilities, target.version.labels, texts.length, body.top_k),
      usage: { prompt_tokens: tokens, encoded_texts: encoded },
    });
  });

  router.post('/v1/predict', async (req, res) => {
    const body = parse(s.multi, jsonBody(req.body));
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    const targets: Target[] = [];
    for (const [i, t] of body.tasks.entries()) {
      const { task, version } = typeof t === 'string' ? { task: t, version: undefined } : t;
      targets.push(await targetOf(req, task, version, `tasks[${i}]`));
    }
    const { scored, tokens, encoded } = await predictions.score(targets, texts, { signal: clientGone(res) });
    res.json({
      object: 'list',
      data: scored.map(({ target, probabilities }) => ({
        task: target.task.id,
        version: target.version.number,
        predictions: predictionsJson(probabilities, target.version.labels, texts.length, body.top_k),
      })),
      usage: { prompt_tokens: tokens, encoded_texts: encoded },
    });
  });

  router.post('/v1/tasks/:task/evaluate', async (req, res) => {
    const body = parse(s.evaluate, jsonBody(req.body));
    const target = await targetOf(req, String(req.params.task), body.version);
    const texts = body.examples.map((e) => e.text);
    const { scored } = await predictions.score([target], texts, { signal: clientGone(res) });
    const known = target.version.labels;
    // Labels the version never saw still count, as rows it can only get wrong.
    const unknown = [...new Set(body.examples.map((e) => e.label).filter((l) => !known.includes(l)))];
    const labels = [...known, ...unknown];
    const index = new Map(labels.map((l, i) => [l, i]));
    const truth = Int32Array.from(body.examples, (e) => index.get(e.label)!);
    const predicted = argmaxRows(scored[0]!.probabilities, texts.length, known.length);
    res.json({
      object: 'evaluation',
      task: target.task.id,
      version: target.version.number,
      unknown_labels: unknown,
      ...computeMetrics(truth, predicted, labels),
    });
  });
  return router;
}
