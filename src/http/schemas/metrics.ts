/** Scores of a head on labelled examples, as versions and the evaluate route report them. */
import { z } from 'zod';
import { DENSE_CONFUSION_LABELS } from '../../heads/evaluation.js';

export const perLabelOut = z.object({
  label: z.string(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  support: z.number().int().describe('Examples with the label.'),
});

export const confusionMatrixOut = z
  .union([
    z.object({ labels: z.array(z.string()), matrix: z.array(z.array(z.number().int())) }).strict(),
    z
      .object({
        labels: z.array(z.string()),
        format: z.literal('sparse'),
        cells: z
          .array(z.tuple([z.number().int(), z.number().int(), z.number().int()]))
          .describe('[row, column, count] of every non-zero cell, by row then column.'),
      })
      .strict(),
  ])
  .describe(
    `Rows: true label; columns: predicted label, both indexes into labels. Every cell (matrix) up to ${DENSE_CONFUSION_LABELS} labels; beyond, only the non-zero ones (format "sparse", cells).`,
  );
