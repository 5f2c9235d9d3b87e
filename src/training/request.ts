/**
 * A training request: which head, fixed parameters or a search, how to
 * evaluate, whether to sweep layers. The same schema validates the HTTP body,
 * documents it in OpenAPI, and travels with the job in the store.
 */
import { z } from 'zod';

const positive = z.number().positive().finite();

export const svmParamsSchema = z
  .object({
    kernel: z.enum(['linear', 'rbf', 'poly']).default('rbf'),
    C: positive.max(1e6).default(10).describe('Penalty on margin violations.'),
    gamma: z
      .union([positive.max(1e6), z.enum(['scale', 'auto'])])
      .default('scale')
      .describe("Kernel width (rbf, poly): a number, 'scale' = 1/(dim·var(X)) or 'auto' = 1/dim."),
    degree: z.number().int().min(1).max(10).default(3).describe('Polynomial degree (poly).'),
    coef0: z.number().finite().min(-1e6).max(1e6).default(0).describe('Polynomial offset (poly).'),
    class_weight: z
      .union([z.literal('balanced'), z.record(z.string().min(1), positive.max(1e6))])
      .nullable()
      .default(null)
      .describe("Multiply C per label: 'balanced' (n / (labels × count)) or {label: weight}; for imbalanced labels."),
    tolerance: positive.max(1).default(1e-3).describe('Solver stopping tolerance.'),
  })
  .strict();

export const forestParamsSchema = z
  .object({
    n_estimators: z.number().int().min(1).max(2000).default(100),
    max_features: z
      .union([z.enum(['sqrt', 'log2']), z.number().gt(0).lt(1), z.number().int().min(1)])
      .default('sqrt')
      .describe("Candidate features per split: 'sqrt', 'log2', a fraction in (0, 1) or a count."),
    max_depth: z.number().int().min(1).max(1000).nullable().default(null),
    min_samples_split: z.number().int().min(2).default(2),
    min_samples_leaf: z.number().int().min(1).default(1),
    bootstrap: z.boolean().default(true),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
  })
  .strict();

export type SvmHeadParams = z.output<typeof svmParamsSchema>;
export type ForestHeadParams = z.output<typeof forestParamsSchema>;
export const HEAD_TYPES = ['svm', 'random_forest'] as const;
export type HeadType = (typeof HEAD_TYPES)[number];

const svmHead = z
  .object({
    type: z.literal('svm'),
    params: svmParamsSchema.default(svmParamsSchema.parse({})),
    search: z.boolean().default(false).describe('Cross-validate a grid of kernels, C and gamma instead of fixed params.'),
  })
  .strict();
const forestHead = z
  .object({
    type: z.literal('random_forest'),
    params: forestParamsSchema.default(forestParamsSchema.parse({})),
    search: z.boolean().default(false).describe('Cross-validate a grid of max_features and max_depth instead of fixed params.'),
  })
  .strict();
const autoHead = z
  .object({
    type: z.literal('auto'),
    candidates: z.array(z.enum(HEAD_TYPES)).min(1).max(HEAD_TYPES.length).default(['svm', 'random_forest']).describe('Head types whose grids are searched.'),
  })
  .strict();

export const headSchema = z.discriminatedUnion('type', [svmHead, forestHead, autoHead], {
  error: (i) => (i.code === 'invalid_union' ? `unknown head type; use one of svm, random_forest, auto` : undefined),
});

export const evaluationSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('cv'), folds: z.number().int().min(2).max(20).default(5) }).strict(),
  z.object({ method: z.literal('holdout'), fraction: z.number().gt(0).lt(1).default(0.2) }).strict(),
]);

export const layerSweepSchema = z
  .object({
    layers: z.array(z.number().int()).min(1).max(64).optional().describe('Layers to try (default: every hidden state, 0..L).'),
    top_concat: z.number().int().min(0).max(8).default(3).describe('Also try the concatenation of the top N layers (0: no).'),
  })
  .strict();

export const trainingRequestSchema = z
  .object({
    head: z
      .union([z.enum(['svm', 'random_forest', 'auto']), headSchema])
      .default('svm')
      .describe('A head type, or {type, params | search}.'),
    evaluation: evaluationSchema.default({ method: 'cv', folds: 5 }),
    layer_sweep: z
      .union([z.boolean(), layerSweepSchema])
      .default(false)
      .describe("Cross-validate a probe on every hidden layer (and the top layers' concatenation) and train on the best."),
    activate: z.boolean().default(true).describe('Make the new version active when it succeeds.'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0)
      .describe('Seeds folds and probability calibration.'),
  })
  .strict();

export type TrainingRequestInput = z.input<typeof trainingRequestSchema>;

export interface TrainingRequest {
  head: z.output<typeof headSchema>;
  evaluation: z.output<typeof evaluationSchema>;
  layerSweep: { layers?: number[]; topConcat: number } | null;
  activate: boolean;
  seed: number;
}

/** The parsed body in its canonical form: head strings become objects with defaults. */
export function normalizeRequest(raw: z.output<typeof trainingRequestSchema>): TrainingRequest {
  const head = typeof raw.head === 'string' ? headSchema.parse({ type: raw.head }) : raw.head;
  const sweep = raw.layer_sweep === false ? null : raw.layer_sweep === true ? layerSweepSchema.parse({}) : raw.layer_sweep;
  return {
    head,
    evaluation: raw.evaluation,
    layerSweep: sweep && { ...(sweep.layers ? { layers: sweep.layers } : {}), topConcat: sweep.top_concat },
    activate: raw.activate,
    seed: raw.seed,
  };
}

/** Fewest examples every label needs under an evaluation method. */
export function minPerLabel(evaluation: TrainingRequest['evaluation']): number {
  return evaluation.method === 'cv' ? evaluation.folds : 2;
}
