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

/** POST …/suggestions: which texts to label next, each with the head's guess. */
const suggestionOut = z.object({
  index: z.number().int().optional().describe('Position in input (suggestions from texts in the body).'),
  pool_id: z.number().int().optional().describe('The pool text (suggestions from the pool): label it with POST …/pool/{pool_id}/label.'),
  text: z.string(),
  uncertainty: z.number().describe('1 − the margin between the two most probable labels (multi-label: the label closest to its threshold); 1 is a coin toss.'),
  similarity: z.number().describe('Cosine similarity to the closest text suggested before it (0 for the first).'),
  typicality: z.number().nullable().describe('A pick by typicality: how typical of its cluster the text is, 0 to 1 (1: the most); a pick by margin: null.'),
  prediction: prediction.describe(
    "The head's current guess, with its top_k most probable labels (three by default; from the pool: index is the text's place in the pool sample).",
  ),
});
export const suggestionsOut = z.object({
  object: z.literal('list'),
  task: z.string(),
  kind,
  version: z.number().int(),
  prior: appliedPriorOut.optional(),
  source: z.enum(['input', 'pool']).describe('Where the candidates came from.'),
  candidates: z.number().int().describe('Texts the suggestions were chosen from.'),
  data: z.array(suggestionOut).describe('In the order chosen: the most useful first.'),
  strategy: z.enum(['typical', 'mixed', 'margin']),
  uncertainty_weight: z.number().nullable().describe('typical, mixed: the weight of uncertainty used; margin: null.'),
  skipped: z.object({
    labelled: z.number().int().describe('Texts the task already has as examples (input only: pool texts never are).'),
    repeated: z.number().int().describe('Texts given more than once (counted once; input only).'),
  }),
  usage,
});
