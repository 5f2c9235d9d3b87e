/** The `prototype` head's parameters in the API's form: what a request gives, a search varies and a fit reads. */
import { z } from 'zod';

/**
 * The cosine scale a prototype head uses unless told: measured in
 * bench:little-data as the one that minimises the zero-shot log-loss over
 * the shared data sets.
 */
export const DEFAULT_SCALE = 15;

export const prototypeParamsSchema = z
  .object({
    scale: z
      .number()
      .positive()
      .max(1000)
      .default(DEFAULT_SCALE)
      .describe('Multiplies the cosines before the softmax: larger, sharper probabilities (the choice of label does not depend on it).'),
  })
  .strict();

export type PrototypeHeadParams = z.output<typeof prototypeParamsSchema>;
