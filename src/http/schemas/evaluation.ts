/** A version's evaluation example by example, and the map of its examples, as the API returns them. */
import { z } from 'zod';

/** A map point's text is for hovering over: its start is enough, and bounds the map's size. */
export const MAP_TEXT_CHARS = 200;

const exampleId = z.number().int().describe("The example's id in its task (GET …/examples/{id}).");
const rowText = z.string().nullable().describe('null when the example was deleted since the version was trained.');

export const evaluationRowOut = z
  .union([
    z.object({
      example_id: exampleId,
      text: rowText,
      label: z.string().describe('Its label when the version was trained.'),
      predicted: z.string().describe('What a head that never saw it predicted (cross-validation or hold-out).'),
    }),
    z.object({
      example_id: exampleId,
      text: rowText,
      labels: z.array(z.string()).describe('Its label set when the version was trained.'),
      predicted_labels: z
        .array(z.string())
        .describe("The set a head that never saw it predicted, each label at a threshold chosen on the other folds' rows (may be empty)."),
    }),
  ])
  .describe('Single-label versions: label and predicted; multi-label versions: labels and predicted_labels.');

export const mapOut = z.object({
  object: z.literal('example_map'),
  method: z.literal('pca'),
  explained_variance_ratio: z.array(z.number()).describe("Share of the sample's variance along x and along y."),
  total: z.number().int().describe('Examples the version was trained on; at most 2,000 of them are mapped (a seeded sample).'),
  points: z.array(
    z.object({
      example_id: z.number().int().describe("The example's id in its task."),
      x: z.number(),
      y: z.number(),
      label: z.string(),
      predicted: z.string().nullable().describe('Out-of-fold prediction; null for an example never held out (hold-out training rows).'),
      text: z.string().nullable().describe(`Its first ${MAP_TEXT_CHARS} characters; null when deleted since.`),
    }),
  ),
});
