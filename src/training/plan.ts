/**
 * What a job will train on, decided before it is queued and again when it
 * runs: the candidate feature specs (the task's own, then a layer sweep's),
 * and whether the task's examples and the head's parameters allow training
 * as asked. Pure, so the API refuses a request at once with the error the job
 * would otherwise fail with later.
 */
import { type FeatureSpec, resolveSpec, specDimensions, specKey } from '../encoder/feature-spec.js';
import { DomainError, isDomainError } from '../errors.js';
import type { TaskKind } from '../lib/task-kind.js';
import { headOf } from '../heads/registry.js';
import type { TaskRecord } from '../store/types.js';
import type { ModelManifest } from '../encoder/manifest.js';
import { FINE_TUNE_HEAD, type FineTuneParams, fineTuneParamsSchema, recipeOf, untrainableReason } from './fine-tune/params.js';
import { DEFAULT_RECIPE, FEW_SHOT_BELOW, FEW_SHOT_RECIPE, type FineTuneRecipe } from './fine-tune/recipe.js';
import { DESCRIPTIONS_HELP_BELOW, type FixedHeadRequest, fineTunes, isAuto, type TrainingRequest } from './request.js';

/**
 * Checks that a task's examples can be trained on as requested, and that the
 * head's parameters suit the task (`dim`: the smallest feature dimension the
 * job may train on); the message says what to fix. `counts`: examples by
 * label, a described label without examples counted as 0 (its description is
 * its row). How few examples a label may have is not checked: the evaluation
 * takes what the examples allow (./evaluation-plan.ts).
 */
export function checkTrainable(counts: ReadonlyMap<string, number>, request: TrainingRequest, dim: number, kind: TaskKind = 'single_label'): void {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) throw new DomainError('no_examples', 'the task has no examples; add labelled examples before training');
  if (counts.size < 2)
    throw new DomainError(
      'too_few_labels',
      `the task has ${counts.size} label ("${[...counts.keys()][0]}"); a classifier needs at least two (labels or described labels)`,
    );
  const head = request.head;
  if (isAuto(head)) return;
  try {
    headOf(head.type)?.check(head.params, { kind, labels: counts, dim });
  } catch (err) {
    throw isDomainError(err) ? err.at(`head.params${err.param ? `.${err.param}` : ''}`) : err;
  }
}

/**
 * Multi-task training compares the joint fit with each task alone on the same
 * folds, so every label of every task must reach every fold (or the hold-out).
 */
export function checkFoldable(counts: ReadonlyMap<string, number>, evaluation: TrainingRequest['evaluation']): void {
  if (evaluation.method === 'none')
    throw new DomainError('invalid_value', 'multi-task training compares the tasks on the same folds: it needs an evaluation', 'evaluation');
  const need = evaluation.method === 'cv' ? evaluation.folds : 2;
  const small = [...counts].filter(([, n]) => n < need);
  if (!small.length) return;
  const how =
    evaluation.method === 'cv'
      ? `multi-task training's ${need}-fold cross-validation needs at least ${need} examples per label`
      : 'multi-task training holds out examples of every label: it needs at least 2 examples per label';
  const list = small
    .slice(0, 10)
    .map(([l, n]) => `"${l}" (${n})`)
    .join(', ');
  throw new DomainError('label_too_small', `${how}; too few: ${list}${small.length > 10 ? ` and ${small.length - 10} more` : ''}`);
}

/** The feature specs a job trains on: the task's own first, then the layer-sweep candidates. */
export function candidateSpecs(task: TaskRecord, request: TrainingRequest, modelLayers: number): FeatureSpec[] {
  const specs = [task.spec];
  if (request.layerSweep) {
    const base = { model: task.spec.model, pooling: task.spec.pooling, normalize: task.spec.normalize };
    const layers = request.layerSweep.layers ?? Array.from({ length: modelLayers + 1 }, (_, i) => i);
    for (const l of layers) {
      try {
        specs.push(resolveSpec({ ...base, layers: l }, modelLayers));
      } catch (err) {
        throw isDomainError(err, 'invalid_feature_spec') ? err.at('layer_sweep.layers') : err;
      }
    }
    const top = Math.min(request.layerSweep.topConcat, modelLayers);
    if (top >= 2)
      specs.push(resolveSpec({ ...base, layers: Array.from({ length: top }, (_, i) => modelLayers - top + 1 + i), layer_combine: 'concat' }, modelLayers));
  }
  const seen = new Set<string>();
  return specs.filter((s) => !seen.has(specKey(s)) && seen.add(specKey(s)));
}

/** The smallest feature dimension among `specs` for a model of hidden size `hidden`: what every head parameter must suit. */
export function smallestDimension(specs: FeatureSpec[], hidden: number): number {
  return Math.min(...specs.map((s) => specDimensions(s, hidden)));
}

/**
 * The recipe a request fine-tunes with on `manifest`'s model, or undefined when it does not fine-tune; refuses a
 * model that cannot be fine-tuned (409 model_not_trainable, with how to re-import it) and parameters that cannot
 * work on it (400, naming the field). `threads`: onnxruntime's, the job's.
 */
export function fineTuneRecipe(request: TrainingRequest, manifest: ModelManifest, threads = 0): FineTuneRecipe | undefined {
  const head = request.head;
  if (!fineTunes(head)) return undefined;
  const why = untrainableReason(manifest);
  if (why) throw new DomainError('model_not_trainable', why);
  const params = (isAuto(head) ? fineTuneParamsSchema.parse({}) : head.params) as FineTuneParams;
  try {
    return recipeOf(params, request.seed, manifest, threads);
  } catch (err) {
    throw isDomainError(err) ? err.at(isAuto(head) ? 'head.candidates' : `head.params${err.param ? `.${err.param}` : ''}`) : err;
  }
}

/** The contrastive objective contrasts texts of a label with the rest: a single-label task, some label with two examples. */
export function checkObjective(recipe: FineTuneRecipe | undefined, kind: TaskKind, counts: ReadonlyMap<string, number>): void {
  if (recipe?.objective !== 'contrastive') return;
  if (kind === 'multi_label')
    throw new DomainError(
      'invalid_params',
      'objective "contrastive" is for single-label tasks; multi-label tasks fine-tune with "classification"',
      'head.params.objective',
    );
  if (![...counts.values()].some((c) => c >= 2))
    throw new DomainError(
      'label_too_small',
      'objective "contrastive" needs a label with at least two examples: with one a label there is nothing to draw together',
    );
}

/** The median of examples a label over the labels that have any (undefined: none has). */
export function medianOf(counts: ReadonlyMap<string, number>): number | undefined {
  const sorted = [...counts.values()].filter((c) => c > 0).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : undefined;
}

/**
 * Whether a single-label job trains on the task's label descriptions beside
 * its examples: as asked, and for `auto` below DESCRIPTIONS_HELP_BELOW examples
 * a label (the median over labels with examples), where bench:little-data
 * measured them helping. `counts`: examples by label.
 */
export function usesDescriptions(task: TaskRecord, request: TrainingRequest, counts: ReadonlyMap<string, number>): boolean {
  if (task.kind !== 'single_label' || request.labelDescriptions === false || !task.labels.some((l) => l.description)) return false;
  if (request.labelDescriptions === true) return true;
  return (medianOf(counts) ?? 0) < DESCRIPTIONS_HELP_BELOW;
}

/**
 * A `fine_tune` request with its epochs and objective filled where it left them unset: FEW_SHOT_RECIPE's on a
 * single-label task of 2 to FEW_SHOT_BELOW − 1 examples a label that trains on its descriptions too (what the
 * few-shot measurements ran; without the descriptions nothing gained), else the defaults. So the job, and the
 * version's parameters, say what ran. `auto` keeps the defaults.
 */
export function withRecipeDefaults(request: TrainingRequest, task: TaskRecord, counts: ReadonlyMap<string, number>): TrainingRequest {
  if (request.head.type !== FINE_TUNE_HEAD) return request;
  const head = request.head as FixedHeadRequest;
  const params = head.params as FineTuneParams;
  if (params.epochs !== undefined && params.objective !== undefined) return request;
  const median = medianOf(counts) ?? 0;
  const few = median >= 2 && median < FEW_SHOT_BELOW && usesDescriptions(task, request, counts);
  const defaults = few ? FEW_SHOT_RECIPE : DEFAULT_RECIPE;
  return { ...request, head: { ...head, params: { ...params, epochs: params.epochs ?? defaults.epochs, objective: params.objective ?? defaults.objective } } };
}
