/**
 * A training request: which head, fixed parameters or a search, how to
 * evaluate, whether to sweep layers. The same schema validates the HTTP body,
 * documents it in OpenAPI, and travels with the job in the store.
 */
import { z } from 'zod';
import { DomainError } from '../errors.js';
import type { TaskKind } from '../lib/task-kind.js';
import { type AnyHead, HEADS } from '../heads/registry.js';
import { FINE_TUNE_HEAD, fineTuneParamsSchema } from './fine-tune/params.js';

/** The head a request that names none trains. */
export const DEFAULT_HEAD: Record<TaskKind, string> = { single_label: 'svm', multi_label: 'logistic_regression' };

/**
 * What `auto` searches when its request names no candidates: the head types
 * marked for it, or on a multi-label task those that fit every label at once
 * (one-vs-rest costs a fit per label).
 */
export function autoDefaults(kind: TaskKind, heads: readonly AnyHead[] = HEADS): string[] {
  return heads.filter((h) => (kind === 'multi_label' ? h.multiLabel === 'native' : h.auto)).map((h) => h.type);
}

/** What a request may name: the registry's head types, and fine-tuning (./fine-tune/params.ts). */
const typesOf = (heads: readonly AnyHead[]): [string, ...string[]] => {
  const [first, ...rest] = [...heads.map((h) => h.type), FINE_TUNE_HEAD];
  return [first!, ...rest];
};

const fineTuneHead = z
  .object({ type: z.literal(FINE_TUNE_HEAD), params: fineTuneParamsSchema.default(fineTuneParamsSchema.parse({})) })
  .strict()
  .describe("Fine-tunes the encoder's top layers (no search: its parameters are given or defaulted).");

/** `{type, params | search}` or `{type: 'auto', candidates}`: one variant per head type of `heads`, fixed parameters (its defaults filled in) or a search of its grid. */
function headSchemaOf(heads: readonly AnyHead[]) {
  const fixedOrSearched = heads.map((h) =>
    z
      .object({
        type: z.literal(h.type),
        params: h.params.default(h.params.parse({})),
        search: z.boolean().default(false).describe(`Cross-validate a grid instead of fixed params: ${h.searchDescription}.`),
      })
      .strict(),
  );
  const autoHead = z
    .object({
      type: z.literal('auto'),
      candidates: z
        .array(z.enum(typesOf(heads)))
        .min(1)
        .max(heads.length + 1)
        .optional()
        .describe(
          `Head types whose grids are searched (default: ${autoDefaults('single_label', heads).join(', ')}; on a multi-label task ${autoDefaults('multi_label', heads).join(', ')}). ${FINE_TUNE_HEAD} only when named: it is trained with its default parameters, evaluated on the frozen candidates' hold-out rows, and chosen only when it beats the best of them there.`,
        ),
    })
    .strict();
  return z.discriminatedUnion('type', [autoHead, fineTuneHead, ...fixedOrSearched], {
    error: (i) => (i.code === 'invalid_union' ? `unknown head type; use one of ${[...typesOf(heads), 'auto'].join(', ')}` : undefined),
  });
}

/** The training request's `head` field for the head types of `heads`. */
const headFieldOf = (heads: readonly AnyHead[]) =>
  z
    .union([z.enum([...typesOf(heads), 'auto']), headSchemaOf(heads)])
    .optional()
    .describe(`A head type, or {type, params | search} (default: ${DEFAULT_HEAD.single_label}; on a multi-label task ${DEFAULT_HEAD.multi_label}).`);

export const evaluationSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('cv'), folds: z.number().int().min(2).max(20).default(5) }).strict(),
  z.object({ method: z.literal('holdout'), fraction: z.number().gt(0).lt(1).default(0.2) }).strict(),
  z.object({ method: z.literal('none') }).strict(),
]);

/** How a request is evaluated when it does not say: fine-tuning on a hold-out (cross-validating it costs a run a fold), the rest by cross-validation. */
export const DEFAULT_EVALUATION = { cv: { method: 'cv', folds: 5 }, holdout: { method: 'holdout', fraction: 0.2 } } as const;

export const layerSweepSchema = z
  .object({
    layers: z.array(z.number().int()).min(1).max(64).optional().describe('Layers to try (default: every hidden state, 0..L).'),
    top_concat: z.number().int().min(0).max(8).default(3).describe('Also try the concatenation of the top N layers (0: no).'),
  })
  .strict();

/** A job's seed: everything random in it (folds, calibration, initial weights) draws from it. */
/**
 * Label descriptions as extra examples lift Banking77's logistic regression
 * by 19.5 points at 1 example a label, 3.0 at 4, 0.9 at 8 and 0.3 at 16
 * (bench:little-data); past that it was not measured: `auto` uses them below
 * this many examples a label.
 */
export const DESCRIPTIONS_HELP_BELOW = 32;

/**
 * What a single-label request that names no head trains below DESCRIPTIONS_HELP_BELOW examples a label: logistic
 * regression (C = 10, the setting bench:little-data measured with descriptions). The SVM's Platt-scaled
 * probabilities are fitted by an inner cross-validation that a few rows a label cannot feed: with one example a
 * label and the descriptions, its predictions on TREC were right on 0 % of test questions, where version 0's were
 * on 51 % (bench:little-data --http).
 */
export const LITTLE_DATA_HEAD = { type: 'logistic_regression', params: { C: 10 } } as const;

/** The shares of the training rows a learning curve measures by default (1, the whole, is the evaluation itself). */
export const DEFAULT_CURVE = [0.1, 0.25, 0.5];

export const seedField = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
  .default(0);

export const trainingRequestSchema = z
  .object({
    head: headFieldOf(HEADS),
    evaluation: evaluationSchema
      .optional()
      .describe(`How the version is scored (default: 5-fold cross-validation; ${FINE_TUNE_HEAD} and auto with ${FINE_TUNE_HEAD}: a hold-out of 0.2).`),
    layer_sweep: z
      .union([z.boolean(), layerSweepSchema])
      .default(false)
      .describe("Cross-validate a probe on every hidden layer (and the top layers' concatenation) and train on the best."),
    search_strategy: z
      .enum(['halving', 'grid'])
      .default('halving')
      .describe(
        'How a search (auto, or search: true) spends its folds: halving scores every configuration on one fold and cross-validates only the best on all (single-label tasks, 3 or more folds); grid cross-validates every configuration on every fold.',
      ),
    learning_curve: z
      .union([z.boolean(), z.object({ fractions: z.array(z.number().gt(0).lt(1)).min(1).max(10) }).strict()])
      .default(false)
      .describe(
        `Also cross-validate the chosen head on growing shares of each fold's training rows (default ${DEFAULT_CURVE.join(', ')}; the whole is the evaluation itself) and estimate what more examples would bring.`,
      ),
    label_descriptions: z
      .union([z.literal('auto'), z.boolean()])
      .default('auto')
      .describe(
        `Train on the task's label descriptions too, one extra example per described label (never held out or scored). auto: when the task has fewer than ${DESCRIPTIONS_HELP_BELOW} examples per label (median), where bench:little-data measured them helping; single-label tasks.`,
      ),
    activate: z
      .union([z.boolean(), z.literal('if_better')])
      .default('if_better')
      .describe(
        "if_better: make the new version active only when its evaluation on the task's examples beats the active version's on the same rows (version 0's too); true: always; false: never.",
      ),
    seed: seedField.describe('Seeds folds and probability calibration.'),
  })
  .strict();

/** The training request for the head types of `heads` (the app's registry). */
export const trainingRequestSchemaOf = (heads: readonly AnyHead[]) => trainingRequestSchema.extend({ head: headFieldOf(heads) });

export type TrainingRequestInput = z.input<typeof trainingRequestSchema>;

/** `auto`: search the grids of several head types. */
export interface AutoHeadRequest {
  type: 'auto';
  candidates: string[];
}

/** One head type: its parameters (defaults filled in by its schema), or a search of its grid. */
export interface FixedHeadRequest {
  type: string;
  params: Record<string, unknown>;
  search: boolean;
}

export type HeadRequest = AutoHeadRequest | FixedHeadRequest;

export const isAuto = (head: HeadRequest): head is AutoHeadRequest => head.type === 'auto';

/** Whether the request fine-tunes: as its head, or among auto's candidates. */
export const fineTunes = (head: HeadRequest): boolean => (isAuto(head) ? head.candidates.includes(FINE_TUNE_HEAD) : head.type === FINE_TUNE_HEAD);

export interface TrainingRequest {
  head: HeadRequest;
  /** A multi-task job's tasks, the job's own first (./multitask.ts); absent for a job of one task. */
  tasks?: string[];
  evaluation: z.output<typeof evaluationSchema>;
  layerSweep: { layers?: number[]; topConcat: number } | null;
  /** A search's plan: successive halving over folds (./search-plan.ts), or the full grid. */
  searchStrategy?: 'halving' | 'grid';
  /** Shares of the training rows the learning curve measures (ascending, below 1), or null for none. */
  learningCurve?: number[] | null;
  /** Whether the task's label descriptions join the training rows (auto: below DESCRIPTIONS_HELP_BELOW examples a label). */
  labelDescriptions?: 'auto' | boolean;
  /** Whether the new version becomes active: always, never, or when it beats the active one on the same rows (./activation.ts). */
  activate: boolean | 'if_better';
  seed: number;
}

/**
 * The parsed body in its canonical form for a task of `kind`: the default
 * head filled in, head strings become objects with defaults, and head types
 * that cannot train the task's kind refused. `heads`: the registry the body
 * was parsed for.
 */
export function normalizeRequest(
  raw: z.output<typeof trainingRequestSchema>,
  kind: TaskKind = 'single_label',
  heads: readonly AnyHead[] = HEADS,
  /** The task's examples a label (the median over labels with examples), when known: a request naming no head on few examples trains LITTLE_DATA_HEAD. */
  examplesPerLabel?: number,
): TrainingRequest {
  const little = kind === 'single_label' && examplesPerLabel !== undefined && examplesPerLabel < DESCRIPTIONS_HELP_BELOW;
  const given = raw.head ?? (little && heads.some((h) => h.type === LITTLE_DATA_HEAD.type) ? LITTLE_DATA_HEAD : DEFAULT_HEAD[kind]);
  const parsed =
    typeof given === 'string' ? headSchemaOf(heads).parse({ type: given }) : given === LITTLE_DATA_HEAD ? headSchemaOf(heads).parse(LITTLE_DATA_HEAD) : given;
  const head = (
    isAuto(parsed as HeadRequest) ? { ...parsed, candidates: (parsed as { candidates?: string[] }).candidates ?? autoDefaults(kind, heads) } : parsed
  ) as HeadRequest;
  if (head.type === FINE_TUNE_HEAD) (head as FixedHeadRequest).search = false;
  if (kind === 'multi_label') {
    const types = isAuto(head) ? head.candidates : [head.type];
    const unfit = types.filter((t) => t !== FINE_TUNE_HEAD && !heads.find((h) => h.type === t)?.multiLabel);
    if (unfit.length)
      throw new DomainError(
        'invalid_params',
        `${unfit.join(', ')} cannot train a multi-label task; use one of ${heads
          .filter((h) => h.multiLabel)
          .map((h) => h.type)
          .join(', ')}`,
        isAuto(head) ? 'head.candidates' : 'head.type',
      );
  }
  const tunes = fineTunes(head);
  const evaluation = raw.evaluation ?? (tunes ? DEFAULT_EVALUATION.holdout : DEFAULT_EVALUATION.cv);
  if (tunes && evaluation.method === 'cv')
    throw new DomainError(
      'invalid_params',
      `${FINE_TUNE_HEAD} is evaluated on a hold-out (cross-validating it would fine-tune once a fold): use {"method": "holdout"} or {"method": "none"}`,
      'evaluation',
    );
  if (tunes && !isAuto(head) && (raw.layer_sweep !== false || raw.learning_curve !== false))
    throw new DomainError(
      'invalid_params',
      `${FINE_TUNE_HEAD} trains the encoder's top layers on the texts: a layer sweep or a learning curve of frozen features does not apply`,
      raw.layer_sweep !== false ? 'layer_sweep' : 'learning_curve',
    );
  const sweep = raw.layer_sweep === false ? null : raw.layer_sweep === true ? layerSweepSchema.parse({}) : raw.layer_sweep;
  return {
    head,
    evaluation,
    layerSweep: sweep && { ...(sweep.layers ? { layers: sweep.layers } : {}), topConcat: sweep.top_concat },
    learningCurve:
      raw.learning_curve === false ? null : [...new Set(raw.learning_curve === true ? DEFAULT_CURVE : raw.learning_curve.fractions)].sort((a, b) => a - b),
    labelDescriptions: raw.label_descriptions,
    searchStrategy: raw.search_strategy,
    activate: raw.activate,
    seed: raw.seed,
  };
}
