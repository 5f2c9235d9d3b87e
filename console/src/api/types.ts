/** The JSON the console reads, as the service's route schemas declare it (src/http/routes/*.ts). */

export interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  next_after: string | null;
}

export interface FeatureSpec {
  model: string;
  layers: number[];
  layer_combine: 'concat' | 'mean';
  pooling: 'mean' | 'cls' | 'max';
  normalize: boolean;
}

export interface Task {
  id: string;
  object: 'task';
  name: string;
  description: string | null;
  feature_spec: FeatureSpec;
  kind: 'single_label' | 'multi_label';
  /** Declared labels and what they mean. */
  labels: Array<{ name: string; description: string | null }>;
  example_count: number;
  active_version: number | null;
  created_at: string;
  updated_at: string;
  /** Only on GET of one task. */
  label_counts?: Record<string, number>;
}

export interface Example {
  id: number;
  object: 'example';
  text: string;
  /** Single-label tasks. */
  label?: string;
  /** Multi-label tasks. */
  labels?: string[];
  created_at: string;
}

export interface UploadResult {
  object: 'examples.upload';
  format: 'json' | 'jsonl' | 'csv';
  received: number;
  inserted: number;
  duplicates: number;
  skipped: number;
  relabelled: number;
  example_count: number;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Job {
  id: string;
  object: 'training_job';
  task: string;
  state: JobState;
  progress: { phase: string; percent: number };
  timings: Array<{ phase: string; ms: number }>;
  request: unknown;
  attempts: number;
  runner: string | null;
  cancel_requested: boolean;
  error: { code: string; message: string } | null;
  version: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export const FINISHED: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

export interface PerLabel {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  /** Multi-label versions: the probability at which the label is predicted. */
  threshold?: number;
}

/** Rows: true label; columns: predicted label. Dense up to 200 labels, sparse beyond. */
export type ConfusionMatrix = { labels: string[]; matrix: number[][] } | { labels: string[]; format: 'sparse'; cells: Array<[number, number, number]> };

export interface VersionMetrics {
  /** multi_label: no accuracy or confusion matrix, but micro-F1, subset accuracy, Hamming loss and a threshold per label. */
  kind?: 'multi_label';
  accuracy: number;
  macro_f1: number;
  micro_f1?: number;
  subset_accuracy?: number;
  hamming_loss?: number;
  method: 'cv' | 'holdout';
  per_label: PerLabel[];
  confusion_matrix?: ConfusionMatrix;
  n: number;
  folds?: number;
  fold_accuracy?: number[];
  holdout_fraction?: number;
}

export interface SpecDescription {
  layers: number[];
  layer_combine: 'concat' | 'mean';
  pooling: 'mean' | 'cls' | 'max';
  normalize: boolean;
}

export interface LayerSweepResult extends SpecDescription {
  dimensions: number;
  accuracy: number;
  macro_f1: number;
  within_one_se: boolean;
  ms: number;
}

export interface LayerSweepReport {
  probe?: { head_type: string; params: unknown };
  rule?: string;
  results: LayerSweepResult[];
  chosen: SpecDescription;
}

export interface SearchResult {
  head_type: string;
  params: Record<string, unknown>;
  /** Absent for a configuration successive halving dropped early (and for multi-label searches). */
  accuracy?: number;
  macro_f1: number;
  /** Folds it was scored on. */
  folds?: number;
  dropped?: boolean;
  ms?: number;
}

export interface SearchReport {
  metric?: string;
  results: SearchResult[];
  chosen: { head_type: string; params: Record<string, unknown> };
}

export interface MultitaskReport {
  tasks: string[];
  joint: { accuracy: number; macro_f1: number };
  alone: { accuracy: number; macro_f1: number };
}

export interface LearningCurveReport {
  metric: 'accuracy' | 'macro_f1';
  points: Array<{ fraction: number; examples: number; accuracy?: number; subset_accuracy?: number; micro_f1?: number; macro_f1: number }>;
  estimate: (Record<string, number | string> & { doubled_examples: number }) | null;
}

export interface VersionReport {
  multitask?: MultitaskReport;
  learning_curve?: LearningCurveReport;
  layer_sweep?: LayerSweepReport;
  search?: SearchReport;
  timings?: Array<{ phase: string; ms: number }>;
}

interface VersionFields {
  object: 'head_version';
  task: string;
  version: number;
  active: boolean;
  head_type: string;
  params: unknown;
  feature_spec: FeatureSpec;
  labels: string[];
  example_count: number;
  training_ms: number;
  artifact_bytes: number;
  job: string | null;
  created_at: string;
}

export interface VersionSummary extends VersionFields {
  metrics: { accuracy?: number; subset_accuracy?: number; macro_f1: number; method: string };
}

export interface Version extends VersionFields {
  metrics: VersionMetrics;
  report: VersionReport;
}

/** One out-of-fold prediction: the example was held out when `predicted` was made. */
export interface EvaluationRow {
  example_id: number;
  /** null when the example was deleted since the version was trained. */
  text: string | null;
  label: string;
  predicted: string;
}

export interface MapPoint {
  example_id: number;
  x: number;
  y: number;
  label: string;
  /** The out-of-fold prediction; null when the example was never held out. */
  predicted: string | null;
  /** Its first 200 characters; null when the example was deleted since. */
  text: string | null;
}

export interface ExampleMap {
  object: 'example_map';
  method: string;
  /** Share of the variance along x and along y. */
  explained_variance_ratio: number[];
  total: number;
  points: MapPoint[];
}

export interface Prediction {
  index: number;
  /** Single-label tasks: the label and its probability. */
  label?: string;
  score?: number;
  /** Multi-label tasks: every label at or above its threshold. */
  labels?: string[];
  probabilities: Record<string, number>;
}

export interface TaskPredictions {
  object: 'list';
  task: string;
  version: number;
  data: Prediction[];
}

export interface MultiPredictions {
  object: 'list';
  data: Array<{ task: string; version: number; predictions: Prediction[] }>;
}

export interface Model {
  id: string;
  object: 'model';
  layers: number;
  hidden_size: number;
  max_tokens: number;
  default: boolean;
}

export interface Embeddings {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] }>;
  model: string;
}
