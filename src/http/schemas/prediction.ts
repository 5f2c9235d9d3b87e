/** Predictions as the API returns them: from the predict routes and with suggestions. */
import { z } from 'zod';
import { taskKind as kind } from './common.js';
import { appliedPriorOut } from './pool.js';

const singleLabelPrediction = z
  .object({
    index: z.number().int(),
    label: z.string(),
    score: z.number().describe('Probability of the label.'),
    probabilities: z.record(z.string(), z.number()).describe('Every label (or the top_k), summing to 1 over all labels.'),
  })
  .strict();
const multiLabelPrediction = z
  .object({
    index: z.number().int(),
    labels: z.array(z.string()).describe('The predicted set: every label whose probability reaches its threshold (may be empty), most probable first.'),
    probabilities: z.record(z.string(), z.number()).describe("Each label's own probability (or the top_k's)."),
  })
  .strict();
export const prediction = z.union([singleLabelPrediction, multiLabelPrediction]).describe('Single-label tasks: label and score; multi-label tasks: labels.');
export const usage = z.object({
  prompt_tokens: z.number().int(),
  encoded_texts: z.number().int().describe('Texts the encoder ran on (the others were cached).'),
});

export const predictOut = z.object({
  object: z.literal('list'),
  task: z.string(),
  kind,
  version: z.number().int(),
  prior: appliedPriorOut.optional(),
  data: z.array(prediction),
  usage,
});
export const multiOut = z.object({
  object: z.literal('list'),
  data: z
    .array(z.object({ task: z.string(), kind, version: z.number().int(), prior: appliedPriorOut.optional(), predictions: z.array(prediction) }))
    .describe('One entry per task, in request order.'),
  usage,
});
