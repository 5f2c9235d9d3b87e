/**
 * A training job's inputs, assembled on the replica that runs it: the tasks'
 * examples and labels (checked against the request), the label descriptions
 * it trains on, and the feature matrices of every candidate spec (computed
 * once; reused afterwards), ready to be copied into the training process.
 */
import { type FeatureSpec, specDimensions, specKey } from '../encoder/feature-spec.js';
import type { ModelRegistry } from '../encoder/registry.js';
import { DomainError } from '../errors.js';
import type { FeatureService } from '../features/feature-service.js';
import { rarestLabel } from '../heads/multi-label.js';
import { prototypeArtifact } from '../heads/prototype/model.js';
import { DEFAULT_SCALE } from '../heads/prototype/params.js';
import { currentPrior, labelText, zeroShotLabels } from '../heads/prototype/label-text.js';
import { textHash } from '../store/ids.js';
import { countsByLabel, labelsOfKey } from '../store/label-set.js';
import type { ExampleRecord, JobProgress, JobRecord, Store, TaskRecord } from '../store/types.js';
import type { IncumbentInput } from './activation.js';
import { candidateSpecs, checkTrainable, smallestDimension, usesDescriptions } from './plan.js';
import type { JobArgs, MultitaskArgs } from './job-protocol.js';
import type { TrainingRequest } from './request.js';

/** Where inputs come from. */
export interface InputSources {
  store: Store;
  features: FeatureService;
  models: ModelRegistry;
}

/** Reports the job's phase and percent done (the features take 1–25 %), and a fine-tuning job's steps. */
export type PhaseReport = (name: string, percent: number, detail?: Pick<JobProgress, 'fineTune'>) => void;

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
  // A described label without examples is a class too when descriptions are trained on: its description is its row.
  if (usesDescriptions(task, request, counts)) for (const l of task.labels) if (l.description && !counts.has(l.name)) counts.set(l.name, 0);
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

/** The rows descriptions add: each described label that is a class, its description through the zero-shot template. */
function descriptionRows(task: TaskRecord, labels: string[], request: TrainingRequest, y: Int32Array): Array<{ text: string; label: number }> {
  const counts = new Map<string, number>();
  for (const c of y) counts.set(labels[c]!, (counts.get(labels[c]!) ?? 0) + 1);
  if (!usesDescriptions(task, request, counts)) return [];
  return task.labels.filter((l) => l.description && labels.includes(l.name)).map((l) => ({ text: labelText(l), label: labels.indexOf(l.name) }));
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
  const incumbent = request.activate === 'if_better' ? await incumbentOf(sources, task, examples, candidates, signal) : undefined;
  const prior = described.length ? await descriptionsPrior(sources, task, labels, candidates[0]!, signal) : undefined;
  return {
    ...mine,
    described,
    encoded: feats.encoded,
    args: {
      request,
      labels,
      y: rowsY,
      ...(targets ? { targets } : {}),
      n,
      extraRows: described.length,
      candidates,
      ...(incumbent ? { incumbent } : {}),
      ...(prior ? { prior } : {}),
    },
  };
}

/**
 * Where a job trains on the label descriptions (few examples a label), the prototype of every class's text on the
 * task's features, in class order, for the chosen head to be blended with (./stages/blend.ts): a declared label's
 * description (or its name), an undeclared one's name, through the zero-shot template, as version 0 reads them.
 */
async function descriptionsPrior(
  sources: InputSources,
  task: TaskRecord,
  labels: string[],
  candidate: { spec: FeatureSpec; dim: number },
  signal: AbortSignal,
): Promise<unknown> {
  const declared = new Map(task.labels.map((l) => [l.name, l]));
  const texts = labels.map((name) => labelText(declared.get(name) ?? { name, description: null }));
  const protos = (await sources.features.forTraining(task.clientId, [candidate.spec], texts, texts.map(textHash), { signal })).matrices[0]!;
  return prototypeArtifact(protos.x, labels.length, candidate.dim, DEFAULT_SCALE);
}

/**
 * The task's active version, as the training process scores it on the job's examples (./activation.ts): version 0
 * from the declared labels' texts, or a trained version from its stored out-of-fold predictions and its head on
 * the examples it never saw. Undefined when there is none to compare with honestly: no active version, a
 * multi-label one (it keeps no out-of-fold sets), or one stored before evaluations were.
 */
async function incumbentOf(
  sources: InputSources,
  task: TaskRecord,
  examples: ExampleRecord[],
  candidates: Array<{ spec: FeatureSpec; dim: number; x: Float32Array }>,
  signal: AbortSignal,
): Promise<IncumbentInput | undefined> {
  const { store, features } = sources;
  const n = examples.length;
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (!task.activeVersion) {
    const zeroShot = zeroShotLabels(task);
    if (!zeroShot) return undefined;
    const texts = zeroShot.map((l) => labelText(l));
    const spec = candidates[0]!.spec;
    const protos = (await features.forTraining(task.clientId, [spec], texts, texts.map(textHash), { signal })).matrices[0]!;
    const dim = candidates[0]!.dim;
    // Version 0 as it is served: with the label prior estimated on the pool, where one applies.
    const prior = currentPrior(task);
    return {
      number: 0,
      labels: zeroShot.map((l) => l.name),
      artifact: prototypeArtifact(protos.x, zeroShot.length, dim, DEFAULT_SCALE, prior?.prior),
      rows: all,
      features: { candidate: 0 },
      known: new Int32Array(n).fill(-1),
    };
  }
  if (task.kind !== 'single_label') return undefined;
  const version = await store.getVersion(task.clientId, task.id, task.activeVersion);
  const evaluation = await store.getEvaluation(task.clientId, task.id, task.activeVersion);
  const artifact = await store.getArtifact(task.clientId, task.id, task.activeVersion);
  if (!version || !evaluation || artifact === undefined) return undefined;
  const seen = new Map(evaluation.exampleIds.map((id, i) => [id, evaluation.predicted[i]!]));
  // Its out-of-fold prediction where it trained on the row; nothing honest where it trained without holding it out.
  const known = Int32Array.from(examples, (e) => (seen.has(e.id) ? (seen.get(e.id)! >= 0 ? seen.get(e.id)! : -2) : -1));
  const rows = Int32Array.from(all.filter((i) => known[i] === -1));
  const candidate = candidates.findIndex((c) => specKey(c.spec) === specKey(version.spec));
  let rowFeatures: IncumbentInput['features'] = { candidate };
  if (candidate < 0 && rows.length) {
    const m = (
      await features.forTraining(
        task.clientId,
        [version.spec],
        Array.from(rows, (r) => examples[r]!.text),
        Array.from(rows, (r) => examples[r]!.textHash),
        { signal },
      )
    ).matrices[0]!;
    rowFeatures = { x: m.x, dim: m.dim };
  }
  return { number: version.number, labels: version.labels, artifact, rows, features: rowFeatures, known };
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
