/**
 * Which texts to label next (src/serving/typical-picks.ts and
 * src/serving/suggestions.ts), never a text the task already has. The
 * candidates are the texts in the body, or without any, the task's pool
 * (all of it, or a fixed sample of a large one).
 */
import { z } from 'zod';
import { DomainError } from '../../errors.js';
import type { PredictionService } from '../../serving/predictions.js';
import { suggest } from '../../serving/suggestions.js';
import { uncertaintyWeightFor } from '../../serving/typical-picks.js';
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

/** `margin`'s weight of spread against uncertainty (bench:little-data). */
const DEFAULT_DIVERSITY = 0.1;
/** `typical`, `mixed`: the examples a label at which uncertainty counts as much as typicality (bench:little-data, cold start). */
const HALF_WEIGHT_PER_LABEL = 2;
/** Examples whose features say what is covered: enough to cover every region a suggestion could fall in. */
const MAX_LABELLED = 4000;
const STRATEGIES = ['typical', 'mixed', 'margin'] as const;
const DEFAULT_STRATEGY: (typeof STRATEGIES)[number] = 'margin';

/** Labels a suggestion's guess shows by default: enough to see what the head hesitates between. */
const SHOWN_LABELS = 3;

const body = (limits: TextLimits) =>
  z
    .object({
      input: textInput(limits)
        .optional()
        .describe(`Unlabelled texts to choose from. Without it, the task's pool: all of it, or a fixed sample of ${limits.maxInputs} texts of a larger pool.`),
      k: z.number().int().min(1).max(limits.maxInputs).default(10).describe('How many to suggest: at most the unlabelled texts given (or pooled).'),
      strategy: z
        .enum(STRATEGIES)
        .optional()
        .describe(
          `margin: the least certain texts, spread out by diversity. typical: the texts are clustered, and each pick is the most typical text of one of the largest clusters the task's examples do not cover yet, leaning towards the least certain as examples a label accumulate (uncertainty_weight). mixed: (1 − uncertainty_weight) of the picks as typical (uncertainty aside), the rest as margin, kept apart from them. Default ${DEFAULT_STRATEGY}: the best after four rounds from a cold start over Banking77, TREC and SST-2 in bench:little-data (typical and mixed did better in the first round only).`,
        ),
      diversity: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe(
          `margin, mixed: 0, the least certain texts, near-duplicates or not; 1, only spread; between, a balance (maximal marginal relevance). Default ${DEFAULT_DIVERSITY}.`,
        ),
      uncertainty_weight: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe(
          `typical, mixed: how much the head's uncertainty counts against typicality and coverage, 0 to 1 (mixed: the share of picks by uncertainty). Default: n / (n + ${HALF_WEIGHT_PER_LABEL}), n the median examples a label of the task.`,
        ),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .default(0)
        .describe('typical only: seeds the clustering (the same texts, examples and seed give the same picks).'),
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
        "Which unlabelled texts to label next (the body's, or without any, the pool's): by default the ones the head is least sure of, not near-duplicates of each other; or typical texts of regions the examples do not cover.",
      params: { task: taskParam },
      body: body(limits),
      responses: { 200: { description: 'The k suggestions.', schema: suggestionsOut }, 409: { description: 'The task has no head to ask yet.' } },
      handler: async ({ params, body, client, res, chargeTokens }) => {
        const target = await predictions.target(client, params.task, body.version);
        const candidates =
          body.input === undefined ? await fromPool(store, target, limits.maxInputs, body.k) : await fromInput(store, target, body.input, body.k);
        const { scored, tokens, encoded } = await predictions.score([target], candidates.texts, { signal: clientGone(res) });
        await chargeTokens(tokens);
        const spent = { tokens, encoded };
        const { probabilities, features } = scored[0]!;
        const n = candidates.texts.length;
        const k = target.version.labels.length;
        const dim = features.length / n;
        const thresholds = thresholdsOf(target.version);
        const input = { probabilities, features, n, k, dim, ...(thresholds ? { thresholds } : {}) };
        const strategy = body.strategy ?? DEFAULT_STRATEGY;
        let picks: Array<{ index: number; uncertainty: number; similarity: number; typicality?: number }>;
        let weight: number | null = null;
        if (strategy === 'margin') picks = suggest(input, body.k, body.diversity ?? DEFAULT_DIVERSITY);
        else {
          const examples = await predictions.labelledFeatures(target, MAX_LABELLED, { signal: clientGone(res) });
          await chargeTokens(examples.tokens);
          spent.tokens += examples.tokens;
          spent.encoded += examples.encoded;
          const counts = [...(await store.labelCounts(target.task.clientId, target.task.id)).values()].sort((a, b) => a - b);
          const median = counts.length ? counts[Math.floor((counts.length - 1) / 2)]! : 0;
          weight = body.uncertainty_weight ?? uncertaintyWeightFor(median, HALF_WEIGHT_PER_LABEL);
          if (strategy === 'typical')
            picks = await predictions.selectTypical({ ...input, labelled: examples.x, m: examples.m, uncertaintyWeight: weight, seed: body.seed }, body.k);
          else {
            // mixed: (1 − w) of the picks typical (uncertainty aside), the rest the least certain, kept apart from those.
            const typicalCount = Math.round((1 - weight) * body.k);
            const typical = typicalCount
              ? await predictions.selectTypical({ ...input, labelled: examples.x, m: examples.m, uncertaintyWeight: 0, seed: body.seed }, typicalCount)
              : [];
            const after = typical.map((p) => p.index);
            picks = [...typical, ...suggest(input, body.k - typicalCount, body.diversity ?? DEFAULT_DIVERSITY, after)];
          }
        }
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
              typicality: p.typicality === undefined ? null : round(p.typicality),
              prediction: { ...guesses[p.index]!, index: fromInputs ? ref : p.index },
            };
          }),
          strategy,
          uncertainty_weight: weight === null ? null : round(weight),
          skipped: candidates.skipped,
          usage: { prompt_tokens: spent.tokens, encoded_texts: spent.encoded },
        } satisfies z.infer<typeof suggestionsOut>);
      },
    }),
  ];
}
