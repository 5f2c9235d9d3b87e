/**
 * A training job's inputs, assembled on the replica that runs it: the tasks'
 * examples and labels (checked against the request), the label descriptions
 * it trains on, and the feature matrices of every candidate spec (computed
 * once; reused afterwards), ready to be copied into the training process.
 */
import { specDimensions, specKey } from '../encoder/feature-spec.js';
import type { ModelRegistry } from '../encoder/registry.js';
import { DomainError } from '../errors.js';
import type { FeatureService } from '../features/feature-service.js';
import { rarestLabel } from '../heads/multi-label.js';
import { labelText } from '../heads/prototype/label-text.js';
import { textHash } from '../store/ids.js';
import { countsByLabel, labelsOfKey } from '../store/label-set.js';
import type { ExampleRecord, JobRecord, Store, TaskRecord } from '../store/types.js';
import { candidateSpecs, checkTrainable, smallestDimension } from './plan.js';
import type { JobArgs, MultitaskArgs } from './job-protocol.js';
import { DESCRIPTIONS_HELP_BELOW, type TrainingRequest } from './request.js';

/** Where inputs come from. */
export interface InputSources {
  store: Store;
  features: FeatureService;
  models: ModelRegistry;
}

/** Reports the job's phase and percent done (the features take 1–25 %). */
export type PhaseReport = (name: string, percent: number) => void;

/** A task's examples, their labels as class indexes (multi-label: multi-hot targets), checked against the request. */
export interface TaskExamples {
  task: TaskRecord;
  examples: ExampleRecord[];
  /** The feature specs the job may train on: the task's own first. */
  specs: ReturnType<typeof candidateSpecs>;
  /** Class index → label. */
  labels: string[];
  /** Class index per example (multi-label: its rarest label, to stratify folds by). */
  y: Int32Array;
  targets: Uint8Array | undefined;
  n: number;
}

/** A single-task job's inputs: what its training process gets, and what its version records beside the result. */
export interface SingleTaskInputs extends TaskExamples {
  args: Omit<JobArgs, 'threads'>;
  /** The label descriptions trained on as extra rows. */
  described: Array<{ text: string; label: number }>;
  /** Texts the encoder ran on (the others' features were stored). */
  encoded: number;
}

/** A multi-task job's inputs, its tasks in the request's order. */
export interface MultitaskInputs {
  args: Omit<MultitaskArgs, 'threads'>;
  tasks: Array<TaskExamples & { encoded: number }>;
}

/** The job's own task and its model's encoder. */
async function taskAndEncoder(sources: InputSources, job: JobRecord) {
  const task = await sources.store.getTask(job.clientId, job.taskId);
  if (!task) throw new DomainError('task_deleted', 'the task was deleted');
  const encoder = sources.models.get(task.spec.model);
  if (!encoder) throw new DomainError('model_unavailable', `model ${task.spec.model} is not loaded on this replica`);
  return { task, encoder };
}

async function examplesOf(store: Store, task: TaskRecord, request: TrainingRequest, modelLayers: number, hiddenSize: number): Promise<TaskExamples> {
  const examples: ExampleRecord[] = await store.allExamples(task.clientId, task.id);
  const stored = new Map<string, number>();
  for (const e of examples) stored.set(e.label, (stored.get(e.label) ?? 0) + 1);
  const counts = countsByLabel(task.kind, stored);
  const specs = candidateSpecs(task, request, modelLayers);
  checkTrainable(counts, request, smallestDimension(specs, hiddenSize), task.kind);
  const labels = [...counts.keys()].sort();
  const classOf = new Map(labels.map((l, i) => [l, i]));
  const n = examples.length;
  const k = labels.length;
  // Multi-label: every example's set as a multi-hot row, and its rarest label to stratify folds by.
  const targets = task.kind === 'multi_label' ? new Uint8Array(n * k) : undefined;
  if (targets) for (const [i, e] of examples.entries()) for (const l of labelsOfKey(e.label)) targets[i * k + classOf.get(l)!] = 1;
  const y = targets ? rarestLabel(targets, n, k) : Int32Array.from(examples, (e) => classOf.get(e.label)!);
  return { task, examples, specs, labels, y, targets, n };
}

/**
 * The label descriptions a single-label job trains on beside its examples:
 * each described label that has examples, its description through the
 * zero-shot template. `auto` takes them below DESCRIPTIONS_HELP_BELOW
 * examples a label (the median), where bench:little-data measured them helping.
 */
function descriptionRows(task: TaskRecord, labels: string[], request: TrainingRequest, y: Int32Array): Array<{ text: string; label: number }> {
  if (task.kind !== 'single_label' || request.labelDescriptions === false) return [];
  const rows = task.labels.filter((l) => l.description && labels.includes(l.name)).map((l) => ({ text: labelText(l), label: labels.indexOf(l.name) }));
  if (request.labelDescriptions === true || rows.length === 0) return rows;
  const counts = new Array<number>(labels.length).fill(0);
  for (const c of y) counts[c]!++;
  counts.sort((a, b) => a - b);
  return counts[Math.floor(counts.length / 2)]! < DESCRIPTIONS_HELP_BELOW ? rows : [];
}

/** The job's own task: its examples, label descriptions, and a feature matrix per candidate spec. */
export async function singleTaskInputs(
  sources: InputSources,
  job: JobRecord,
  request: TrainingRequest,
  signal: AbortSignal,
  phase: PhaseReport,
): Promise<SingleTaskInputs> {
  const { task: own, encoder } = await taskAndEncoder(sources, job);
  const mine = await examplesOf(sources.store, own, request, encoder.manifest.layers, encoder.manifest.hiddenSize);
  const { task, examples, specs, labels, y, targets, n } = mine;
  // The task's label descriptions, as one extra training row each, where they help (few examples a label).
  const described = descriptionRows(task, labels, request, y);
  const texts = [...examples.map((e) => e.text), ...described.map((d) => d.text)];

  phase('features', 1);
  const feats = await sources.features.forTraining(
    job.clientId,
    specs,
    texts,
    texts.map((t, i) => (i < n ? examples[i]!.textHash : textHash(t))),
    { signal, onProgress: (done, total) => phase('features', 1 + (total ? (24 * done) / total : 24)) },
  );
  signal.throwIfAborted();
  const rowsY = described.length ? Int32Array.from([...y, ...described.map((d) => d.label)]) : y;

  // Copied into the training process as they are: no shared copy is kept here.
  const candidates = feats.matrices.map((m) => ({ spec: m.spec, dim: specDimensions(m.spec, encoder.manifest.hiddenSize), x: m.x }));
  return {
    ...mine,
    described,
    encoded: feats.encoded,
    args: { request, labels, y: rowsY, ...(targets ? { targets } : {}), n, extraRows: described.length, candidates },
  };
}

/** Several tasks trained together (./multitask.ts): each one's examples and its features under the first task's spec. */
export async function multitaskInputs(
  sources: InputSources,
  job: JobRecord,
  request: TrainingRequest,
  taskIds: string[],
  signal: AbortSignal,
  phase: PhaseReport,
): Promise<MultitaskInputs> {
  const { task: first, encoder } = await taskAndEncoder(sources, job);
  const { layers, hiddenSize } = encoder.manifest;
  const tasks: Array<TaskExamples & { x: Float32Array; encoded: number }> = [];
  for (const [i, taskId] of taskIds.entries()) {
    const other = taskId === first.id ? first : await sources.store.getTask(job.clientId, taskId);
    if (!other) throw new DomainError('task_deleted', `task ${taskId} was deleted`);
    const t = await examplesOf(sources.store, other, request, layers, hiddenSize);
    if (specKey(t.task.spec) !== specKey(first.spec))
      throw new DomainError('invalid_value', `task ${taskId} no longer has the feature spec of task ${first.id}`);
    phase('features', 1 + (24 * i) / taskIds.length);
    const feats = await sources.features.forTraining(
      job.clientId,
      [first.spec],
      t.examples.map((e) => e.text),
      t.examples.map((e) => e.textHash),
      { signal },
    );
    signal.throwIfAborted();
    tasks.push({ ...t, x: feats.matrices[0]!.x, encoded: feats.encoded });
  }
  const dim = specDimensions(first.spec, hiddenSize);
  return {
    tasks,
    args: { request, tasks: tasks.map((t) => ({ taskId: t.task.id, labels: t.labels, y: t.y, n: t.n, spec: first.spec, dim, x: t.x })) },
  };
}
