/**
 * Which texts to label next: the head's least certain, spread out
 * (src/serving/suggestions.ts), never a text the task already has. The
 * candidates are the texts in the body, or without any, the task's pool
 * (all of it, or a fixed sample of a large one).
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
import { suggestionsOut } from '../schemas/prediction.js';
import { predictionsJson, thresholdsOf } from '../resource-json.js';
import { type TextLimits, textInput, texts } from '../schemas/text-input.js';
import { priorJson } from '../../serving/zero-shot.js';
import type { Target } from '../../serving/predictions.js';

/**
 * How much a suggestion's difference from those picked before it counts
 * against its uncertainty: the best of the settings bench:little-data tried
 * (docs/benchmarks/little-data.md).
 */
const DEFAULT_DIVERSITY = 0.1;

/** Labels a suggestion's guess shows by default: enough to see what the head hesitates between. */
const SHOWN_LABELS = 3;

const body = (limits: TextLimits) =>
  z
    .object({
      input: textInput(limits)
        .optional()
        .describe(`Unlabelled texts to choose from. Without it, the task's pool: all of it, or a fixed sample of ${limits.maxInputs} texts of a larger pool.`),
      k: z.number().int().min(1).max(limits.maxInputs).default(10).describe('How many to suggest: at most the unlabelled texts given (or pooled).'),
      diversity: z
        .number()
        .min(0)
        .max(1)
        .default(DEFAULT_DIVERSITY)
        .describe(
          `0: the least certain texts, near-duplicates or not; 1: only spread; between, a balance (maximal marginal relevance). Default ${DEFAULT_DIVERSITY}: the best of 0 to 0.5 in bench:little-data.`,
        ),
      version: z.number().int().min(1).max(MAX_VERSION).optional().describe('The head to ask; default: the active one.'),
      top_k: z
        .number()
        .int()
        .min(1)
        .default(SHOWN_LABELS)
        .describe(`How many of the most probable labels each guess shows (default ${SHOWN_LABELS}; the number of labels or more: every one).`),
    })
    .strict();

/** Candidates to suggest from: their texts, and where each came from (an input position or a pool id). */
interface Candidates {
  source: 'input' | 'pool';
  texts: string[];
  /** Per candidate: its position in input, or its pool id. */
  refs: number[];
  skipped: { labelled: number; repeated: number };
}

/** The texts of the body that are unlabelled and distinct, each at its first position. */
async function fromInput(store: Store, target: Target, input: string | string[], k: number): Promise<Candidates> {
  const given = texts(input);
  const firstAt = new Map<string, number>();
  for (const [i, t] of given.entries()) if (!firstAt.has(t)) firstAt.set(t, i);
  const labelled = await store.labelledHashes(target.task.clientId, target.task.id, [...firstAt.keys()].map(textHash));
  const candidates = [...firstAt].filter(([t]) => !labelled.has(textHash(t)));
  if (k > candidates.length)
    throw new DomainError(
      'invalid_value',
      `k is ${k}, but only ${candidates.length} of the texts given are unlabelled and distinct (${labelled.size} already labelled, ${given.length - firstAt.size} repeated)`,
      'k',
    );
  return {
    source: 'input',
    texts: candidates.map(([t]) => t),
    refs: candidates.map(([, i]) => i),
    skipped: { labelled: labelled.size, repeated: given.length - firstAt.size },
  };
}

/** The task's pool, or a fixed sample of `max` texts of a larger one. */
async function fromPool(store: Store, target: Target, max: number, k: number): Promise<Candidates> {
  const sample = await store.poolSample(target.task.clientId, target.task.id, max);
  if (k > sample.length)
    throw new DomainError(
      'invalid_value',
      sample.length
        ? `k is ${k}, but the task's pool holds only ${sample.length} texts`
        : "no input, and the task's pool is empty: send texts as input, or add some to the pool (POST …/pool)",
      sample.length ? 'k' : 'input',
    );
  return { source: 'pool', texts: sample.map((t) => t.text), refs: sample.map((t) => t.id), skipped: { labelled: 0, repeated: 0 } };
}

export function suggestionsRoutes(store: Store, predictions: PredictionService, limits: TextLimits): Route[] {
  return [
    route({
      method: 'post',
      path: '/v1/tasks/:task/suggestions',
      tag: 'predict',
      scope: 'predict',
      summary:
        "Which unlabelled texts to label next (the body's, or without any, the pool's): the ones the head is least sure of, not near-duplicates of each other.",
      params: { task: taskParam },
      body: body(limits),
      responses: { 200: { description: 'The k suggestions.', schema: suggestionsOut }, 409: { description: 'The task has no head to ask yet.' } },
      handler: async ({ params, body, client, res, chargeTokens }) => {
        const target = await predictions.target(client, params.task, body.version);
        const candidates =
          body.input === undefined ? await fromPool(store, target, limits.maxInputs, body.k) : await fromInput(store, target, body.input, body.k);
        const { scored, tokens, encoded } = await predictions.score([target], candidates.texts, { signal: clientGone(res) });
        await chargeTokens(tokens);
        const { probabilities, features } = scored[0]!;
        const n = candidates.texts.length;
        const k = target.version.labels.length;
        const thresholds = thresholdsOf(target.version);
        const picks = suggest({ probabilities, features, n, k, dim: features.length / n, ...(thresholds ? { thresholds } : {}) }, body.k, body.diversity);
        const guesses = predictionsJson(probabilities, target.version, n, body.top_k);
        const round = (x: number) => Math.round(x * 1e6) / 1e6;
        const prior = priorJson(target.version);
        const fromInputs = candidates.source === 'input';
        res.json({
          object: 'list',
          task: target.task.id,
          kind: target.task.kind,
          version: target.version.number,
          ...(prior ? { prior } : {}),
          source: candidates.source,
          candidates: n,
          data: picks.map((p) => {
            const ref = candidates.refs[p.index]!;
            return {
              ...(fromInputs ? { index: ref } : { pool_id: ref }),
              text: candidates.texts[p.index]!,
              uncertainty: round(p.uncertainty),
              similarity: round(p.similarity),
              prediction: { ...guesses[p.index]!, index: fromInputs ? ref : p.index },
            };
          }),
          skipped: candidates.skipped,
          usage: { prompt_tokens: tokens, encoded_texts: encoded },
        } satisfies z.infer<typeof suggestionsOut>);
      },
    }),
  ];
}
