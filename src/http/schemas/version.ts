/**
 * A version as the API returns it: its head and features, how well it does
 * (metrics) and how it was chosen (report), as the training job wrote them.
 */
import { z } from 'zod';
import { featureSpecOut, fineTuneEpochOut } from './common.js';
import { confusionMatrixOut, perLabelOut } from './metrics.js';

const versionFields = {
  object: z.literal('head_version'),
  task: z.string(),
  version: z.number().int(),
  active: z.boolean(),
  head_type: z.string(),
  params: z.record(z.string(), z.unknown()).describe("The head's parameters, its defaults filled in (GET /v1/heads)."),
  feature_spec: featureSpecOut,
  labels: z.array(z.string()),
  example_count: z.number().int(),
  training_ms: z.number(),
  artifact_bytes: z.number().int().describe('Size of the artifact JSON, uncompressed.'),
  tuned: z
    .object({
      layers: z.number().int().describe('How many of the encoder layers were tuned: the top ones.'),
      first_layer: z.number().int().describe("The first tuned layer (0-based): it reads the shared encoder's hidden state first_layer."),
      last_layer: z.number().int(),
      stored_bytes: z.number().int().describe("The tuned layers' weights as stored (compressed): counted in the client's stored bytes."),
      loaded_bytes: z.number().int().describe('What they take loaded (fp32), in each replica that serves the version.'),
    })
    .nullable()
    .describe("A fine-tuned version's own encoder layers, stored with it; null for every other version."),
  job: z.string().nullable(),
  created_at: z.string(),
};

/** How the scores were measured. */
const measuredBy = {
  method: z.enum(['cv', 'holdout']),
  folds: z.number().int().optional().describe('Cross-validation: how many folds (at most one per example).'),
  requested_folds: z.number().int().optional().describe('Cross-validation with fewer examples than the folds asked for: the folds asked for.'),
  fold_accuracy: z.array(z.number()).optional().describe('Cross-validation: accuracy (multi-label: subset accuracy) on each fold.'),
  holdout_fraction: z.number().optional().describe('Hold-out: the share of the examples held out.'),
};

const singleLabelMetrics = z.object({
  accuracy: z.number(),
  macro_f1: z.number(),
  per_label: z.array(perLabelOut),
  confusion_matrix: confusionMatrixOut,
  n: z.number().int().describe('Examples scored.'),
  ...measuredBy,
});

const multiLabelMetrics = z
  .object({
    kind: z.literal('multi_label'),
    micro_f1: z.number(),
    macro_f1: z.number(),
    subset_accuracy: z.number().describe('Share of the examples whose whole label set is right.'),
    hamming_loss: z.number().describe('Share of wrong (example, label) decisions.'),
    per_label: z.array(
      perLabelOut.extend({
        threshold: z.number().describe('The probability at which the label is predicted, chosen by cross-validation.'),
      }),
    ),
    n: z.number().int().describe('Examples scored.'),
    ...measuredBy,
  })
  .describe(
    'A multi-label version: no accuracy or confusion matrix; the scores are cross-fitted (each fold thresholded by values chosen on the others), so choosing thresholds does not flatter them.',
  );

const notEvaluated = z
  .object({ method: z.literal('none'), reason: z.string() })
  .strict()
  .describe('No evaluation, and no score: the request asked for none, or nothing could be held out (one example, or no label with two for a hold-out).');

export const metricsOut = z.union([singleLabelMetrics, multiLabelMetrics, notEvaluated]);

/** A candidate's scores in a report: accuracy on single-label tasks, subset accuracy and micro-F1 on multi-label ones. */
const scores = {
  accuracy: z.number().optional().describe('Single-label tasks.'),
  subset_accuracy: z.number().optional().describe('Multi-label tasks.'),
  micro_f1: z.number().optional().describe('Multi-label tasks.'),
  macro_f1: z.number(),
};

const headChoice = { head_type: z.string(), params: z.record(z.string(), z.unknown()) };

/** The layers, combination, pooling and normalisation of a feature spec (its model is the task's). */
export const layerChoiceOut = featureSpecOut.omit({ model: true, tuned: true });

export const layerSweepOut = z.object({
  probe: z.object(headChoice).describe('The head each candidate was scored with.'),
  rule: z.string(),
  results: z.array(
    layerChoiceOut.extend({
      dimensions: z.number().int(),
      ...scores,
      within_one_se: z.boolean().describe("Within one standard error of the best candidate's macro-F1 (paired over folds)."),
      ms: z.number(),
    }),
  ),
  chosen: layerChoiceOut,
});

export const searchOut = z.object({
  metric: z.string().describe('What chose the winner.'),
  strategy: z.string(),
  rungs: z
    .array(z.object({ folds: z.number().int(), kept: z.number().int() }))
    .optional()
    .describe('Successive halving: the folds of each round and how many configurations went on.'),
  results: z
    .array(
      z.object({
        ...headChoice,
        ...scores,
        folds: z.number().int().describe('Folds it was scored on.'),
        dropped: z.literal(true).optional().describe('Dropped by successive halving after those folds (its macro-F1 is theirs).'),
        ms: z.number().optional().describe('Worker time of its fits (configurations that ran to the end).'),
      }),
    )
    .describe('Every configuration tried, in grid order.'),
  chosen: z.object(headChoice),
});

export const learningCurveOut = z.object({
  metric: z.enum(['accuracy', 'macro_f1']),
  points: z.array(
    z.object({
      fraction: z.number().describe("Share of each fold's training rows (1: the evaluation itself)."),
      examples: z.number().describe('Training examples a fold, on average.'),
      ...scores,
      fold_accuracy: z.array(z.number()).optional().describe("Each fold's accuracy at this share (single-label tasks)."),
      fold_macro_f1: z.array(z.number()).optional().describe("Each fold's macro-F1 at this share (multi-label tasks)."),
    }),
  ),
  estimate: z
    .object({
      metric: z.enum(['accuracy', 'macro_f1']),
      rule: z.string(),
      b: z.number().describe("The folds' mean error exponent."),
      examples: z.number(),
      doubled_examples: z.number().describe("Where the curve is read: the training rows a fold would have with every label's examples doubled."),
      accuracy_at_double: z.number().optional(),
      macro_f1_at_double: z.number().optional(),
      interval: z
        .tuple([z.number(), z.number()])
        .nullable()
        .describe("A 95 % interval for the score at twice the examples, from the folds' spread; null with a single hold-out split."),
    })
    .nullable()
    .describe(
      "The score each fold's power law predicts at twice the examples, from its measured score, averaged over the folds (an extrapolation); the <metric>_ fields name the metric; null when the points do not allow a fit (one example a label: every share is the same rows).",
    ),
});

const jointScores = z.object({ accuracy: z.number(), macro_f1: z.number() });
export const multitaskOut = z.object({
  tasks: z.array(z.string()).describe('The tasks trained together, this one among them.'),
  rule: z.string(),
  joint: jointScores,
  alone: jointScores.describe('The same MLP trained on this task alone, on the same folds.'),
  macro_f1_gain: z.number(),
});

export const fineTuneReportOut = z.object({
  tuned_layers: z.object({ first: z.number().int(), last: z.number().int() }).describe('The encoder layers tuned (0-based, inclusive).'),
  history: z.array(fineTuneEpochOut).describe('Each epoch trained (a resumed job: the epochs before it resumed included).'),
  trained_rows: z.number().int(),
  held_out_rows: z.number().int(),
  resumed_after_epoch: z.number().int().optional().describe('A job that was handed back mid-training: the epoch it resumed after.'),
  stats: z.object({
    steps: z.number().int(),
    trained_tokens: z.number().int(),
    tokens_per_second: z.number(),
    frozen_seconds: z.number().describe("Computing the frozen layers' states, once for the job."),
    train_seconds: z.number(),
    evaluate_seconds: z.number(),
    frozen_bytes: z.number().int().describe("The frozen states' size."),
    spilled: z.boolean().describe('Whether the frozen states were spilled to disk.'),
  }),
});

export const candidatesOut = z.object({
  metric: z.enum(['accuracy', 'macro_f1']),
  rows: z.number().int().describe('The held-out rows both were scored on.'),
  frozen: z.object({ head: z.string(), score: z.number() }).describe('The best head on frozen features.'),
  fine_tune: z.object({ score: z.number().nullable() }).describe('The fine-tuned candidate; null when nothing was held out.'),
  chosen: z.string().describe('The head type the version is.'),
  reason: z.string(),
});

export const reportOut = z.object({
  fine_tune: fineTuneReportOut
    .optional()
    .describe(
      "A job that fine-tuned (head fine_tune, or among auto's candidates): its epochs, rows and run; with auto, there even when a frozen head was chosen.",
    ),
  candidates: candidatesOut.optional().describe('auto with fine_tune: the best frozen head and the fine-tuned one on the same held-out rows.'),
  frozen: searchOut.optional().describe('auto with fine_tune, the fine-tuned version chosen: the search of the frozen candidates it beat.'),
  layer_sweep: layerSweepOut.optional().describe('When the request asked for a layer sweep.'),
  search: searchOut.optional().describe('When the request searched a grid (auto, or search: true).'),
  learning_curve: learningCurveOut.optional().describe('When the request asked for a learning curve.'),
  multitask: multitaskOut.optional().describe('A version trained with other tasks (POST /v1/multitask-jobs).'),
  activation: z
    .object({
      rule: z.string(),
      decision: z.enum(['activated', 'kept']),
      reason: z.string(),
      compared: z
        .object({
          rows: z.number().int(),
          metric: z.literal('accuracy'),
          new: z.number(),
          active: z.object({ version: z.number().int(), score: z.number() }),
        })
        .optional()
        .describe("The two versions' accuracy on the same examples, each out of sample."),
    })
    .optional()
    .describe("Whether the job made this version active, and why (the request's activate)."),
  label_descriptions: z
    .object({ rows: z.number().int(), labels: z.array(z.string()) })
    .optional()
    .describe("Label descriptions trained on as extra rows (the request's label_descriptions)."),
  features: z
    .object({
      specs: z.number().int(),
      examples: z.number().int(),
      encoded_texts: z.number().int().describe('Texts the encoder ran on (the others were cached).'),
    })
    .optional(),
  timings: z.array(z.object({ phase: z.string(), ms: z.number() })).optional(),
});

export const versionOut = z.object({ ...versionFields, metrics: metricsOut, report: reportOut });

export const versionSummaryOut = z.object({
  ...versionFields,
  metrics: z.union([
    z.object({ accuracy: z.number(), macro_f1: z.number(), method: z.enum(['cv', 'holdout']) }).strict(),
    z
      .object({ kind: z.literal('multi_label'), micro_f1: z.number(), macro_f1: z.number(), subset_accuracy: z.number(), method: z.enum(['cv', 'holdout']) })
      .strict()
      .describe('A multi-label version.'),
    z
      .object({ method: z.literal('none'), reason: z.string() })
      .strict()
      .describe('A version trained without an evaluation.'),
  ]),
});
