/**
 * Which texts to label next: the head's least certain, spread out
 * (src/serving/suggestions.ts), never a text the task already has.
 */
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import type { PredictionService } from '../../serving/predictions.js';
import { suggest } from '../../serving/suggestions.js';
import { textHash } from '../../store/ids.js';
import type { Store } from '../../store/types.js';
import { clientGone } from '../encoding.js';
import { type Route, route } from '../route.js';
import { MAX_VERSION, taskParam } from '../schemas/params.js';
import { taskKind as kind } from '../schemas/common.js';
import { prediction, usage } from '../schemas/prediction.js';
import { predictionsJson, thresholdsOf } from '../resource-json.js';
import { type TextLimits, textInput, texts } from '../schemas/text-input.js';

/**
 * How much a suggestion's difference from those picked before it counts
 * against its uncertainty: the best of the settings bench:little-data tried
 * (docs/benchmarks/little-data.md).
 */
const DEFAULT_DIVERSITY = 0.1;

const body = (limits: TextLimits) =>
  z
    .object({
      input: textInput(limits).describe('Unlabelled texts to choose from.'),
      k: z.number().int().min(1).max(limits.maxInputs).default(10).describe('How many to suggest: at most the unlabelled texts given.'),
      diversity: z
        .number()
        .min(0)
        .max(1)
        .default(DEFAULT_DIVERSITY)
        .describe(
          `0: the least certain texts, near-duplicates or not; 1: only spread; between, a balance (maximal marginal relevance). Default ${DEFAULT_DIVERSITY}: the best of 0 to 0.5 in bench:little-data.`,
        ),
      version: z.number().int().min(1).max(MAX_VERSION).optional().describe('The head to ask; default: the active one.'),
    })
    .strict();

const suggestionOut = z.object({
  index: z.number().int().describe('Position in input.'),
  text: z.string(),
  uncertainty: z.number().describe('1 − the margin between the two most probable labels (multi-label: the label closest to its threshold); 1 is a coin toss.'),
  similarity: z.number().describe('Cosine similarity to the closest text suggested before it (0 for the first).'),
  prediction: prediction.describe("The head's current guess, with its three most probable labels."),
});
const suggestionsOut = z.object({
  object: z.literal('list'),
  task: z.string(),
  kind,
  version: z.number().int(),
  data: z.array(suggestionOut).describe('In the order chosen: the most useful first.'),
  skipped: z.object({
    labelled: z.number().int().describe('Texts the task already has as examples.'),
    repeated: z.number().int().describe('Texts given more than once (counted once).'),
  }),
  usage,
});

export function suggestionsRoutes(store: Store, predictions: PredictionService, limits: TextLimits): Route[] {
  return [
    route({
      method: 'post',
      path: '/v1/tasks/:task/suggestions',
      tag: 'predict',
      scope: 'predict',
      summary: 'Which of these unlabelled texts to label next: the ones the head is least sure of, not near-duplicates of each other.',
      params: { task: taskParam },
      body: body(limits),
      responses: { 200: { description: 'The k suggestions.', schema: suggestionsOut }, 409: { description: 'The task has no head to ask yet.' } },
      handler: async ({ params, body, client, res, chargeTokens }) => {
        const target = await predictions.target(client, params.task, body.version);
        const given = texts(body.input);
        const firstAt = new Map<string, number>();
        for (const [i, t] of given.entries()) if (!firstAt.has(t)) firstAt.set(t, i);
        const labelled = await store.labelledHashes(target.task.clientId, target.task.id, [...firstAt.keys()].map(textHash));
        const candidates = [...firstAt].filter(([t]) => !labelled.has(textHash(t)));
        if (body.k > candidates.length)
          throw new DomainError(
            'invalid_value',
            `k is ${body.k}, but only ${candidates.length} of the texts given are unlabelled and distinct (${labelled.size} already labelled, ${given.length - firstAt.size} repeated)`,
            'k',
          );
        const { scored, tokens, encoded } = await predictions.score(
          [target],
          candidates.map(([t]) => t),
          { signal: clientGone(res) },
        );
        await chargeTokens(tokens);
        const { probabilities, features } = scored[0]!;
        const n = candidates.length;
        const k = target.version.labels.length;
        const thresholds = thresholdsOf(target.version);
        const picks = suggest({ probabilities, features, n, k, dim: features.length / n, ...(thresholds ? { thresholds } : {}) }, body.k, body.diversity);
        const guesses = predictionsJson(probabilities, target.version, n, 3);
        const round = (x: number) => Math.round(x * 1e6) / 1e6;
        res.json({
          object: 'list',
          task: target.task.id,
          kind: target.task.kind,
          version: target.version.number,
          data: picks.map((p) => ({
            index: candidates[p.index]![1],
            text: candidates[p.index]![0],
            uncertainty: round(p.uncertainty),
            similarity: round(p.similarity),
            prediction: { ...guesses[p.index]!, index: candidates[p.index]![1] },
          })),
          skipped: { labelled: labelled.size, repeated: given.length - firstAt.size },
          usage: { prompt_tokens: tokens, encoded_texts: encoded },
        } satisfies z.infer<typeof suggestionsOut>);
      },
    }),
  ];
}
