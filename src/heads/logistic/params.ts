/** The `logistic_regression` head's parameters in the API's form: what a request gives, a search varies and a fit reads. */
import { z } from 'zod';
import { labelRecord } from '../label-record.js';

const positive = z.number().positive().finite();

export const logisticParamsSchema = z
  .object({
    C: positive.max(1e6).default(1).describe('Inverse of the L2 penalty (larger: less regularised), as in scikit-learn.'),
    class_weight: z
      .union([z.literal('balanced'), labelRecord(positive.max(1e6))])
      .nullable()
      .default(null)
      .describe("Weight of each label's examples in the loss: 'balanced' (n / (labels × count)) or {label: weight}."),
    max_iter: z.number().int().min(1).max(10_000).default(200).describe('Most L-BFGS iterations.'),
    tolerance: positive.max(1).default(1e-4).describe("Stop when no gradient component exceeds this (relative to the first iteration's)."),
  })
  .strict();

export type LogisticHeadParams = z.output<typeof logisticParamsSchema>;
