/**
 * Fitting the MLP: scikit-learn's MLPClassifier recipe (ReLU hidden layers,
 * softmax output, cross-entropy plus alpha/2 · ‖W‖² per batch, Glorot-uniform
 * start, Adam), with early stopping on a stratified held-out share of the
 * rows: training stops once the held-out accuracy has not improved by `tol`
 * for `patience` epochs, and keeps the weights of its best epoch. Without
 * early stopping (or with too few rows to hold out MIN_HELD_OUT) it trains
 * on every row and stops the same way on the training loss.
 *
 * The products run on onnxruntime with one thread (./graph.ts), and every
 * random draw comes from one seeded generator: a fit is a pure function of
 * the rows, their order, the parameters and the seed. A job runs its folds
 * and configurations side by side on its pool instead.
 */
import type { Binding } from 'onnxruntime-node/dist/binding.js';
import { type SyncOrt, syncOrt } from '../../onnx/session.js';
import type { Dataset } from '../dataset.js';
import { Rng } from '../rng.js';
import {
  biasGradName,
  biasName,
  forwardGraph,
  type LayerShape,
  type LayerWeights,
  layerShapes,
  type MlpOutput,
  stepGraph,
  weightGradName,
  weightName,
} from './graph.js';

export interface MlpFit {
  hidden: readonly number[];
  /** L2 penalty: the loss adds alpha/2 · ‖W‖² / batch rows. */
  alpha: number;
  learningRate: number;
  batchSize: number;
  /** Most epochs. */
  maxIter: number;
  earlyStopping: boolean;
  validationFraction: number;
  /** Epochs without improvement (by more than tol) before stopping. */
  patience: number;
  tol: number;
  seed: number;
}

export interface MlpWeights {
  layers: LayerWeights[];
  epochs: number;
  /** The early-stopping rows' best accuracy, or null when training stopped on its loss. */
  validationScore: number | null;
}

/**
 * Fewer held-out rows than this make a noisy stopping signal (a handful of
 * rows flips its accuracy by whole steps), and small sets take one batch an
 * epoch, so patience in epochs is patience in single steps: below it the fit
 * stops on its training loss instead.
 */
export const MIN_HELD_OUT = 50;

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

/** Fisher–Yates in place. */
function shuffle(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** Rows held out for early stopping: `fraction` of each class (rounded), never a class's last training row. */
export function holdOut(y: Int32Array, rows: Int32Array, classes: number, fraction: number, rng: Rng): { train: Int32Array; held: Int32Array } {
  const byClass = Array.from({ length: classes }, () => [] as number[]);
  for (const r of rows) byClass[y[r]!]!.push(r);
  const train: number[] = [];
  const held: number[] = [];
  for (const members of byClass) {
    const order = Int32Array.from(members);
    shuffle(order, rng);
    const take = Math.min(Math.round(members.length * fraction), members.length - 1);
    held.push(...order.subarray(0, take));
    train.push(...order.subarray(take));
  }
  return { train: Int32Array.from(train).sort(), held: Int32Array.from(held).sort() };
}

/** Glorot-uniform weights and biases, as scikit-learn starts them for ReLU networks. */
function initialLayers(shapes: LayerShape[], rng: Rng): LayerWeights[] {
  const uniform = (bound: number) => ((rng.nextU32() / 4294967296) * 2 - 1) * bound;
  return shapes.map((shape) => {
    const bound = Math.sqrt(6 / (shape.in + shape.out));
    return {
      ...shape,
      w: Float32Array.from({ length: shape.in * shape.out }, () => uniform(bound)),
      b: Float32Array.from({ length: shape.out }, () => uniform(bound)),
    };
  });
}

class Sessions {
  readonly step: Binding.InferenceSession;
  readonly forward: Binding.InferenceSession;
  /** Every output of the step graph, each fetched into a fresh array. */
  readonly stepFetches: Record<string, null>;
  constructor(
    readonly ort: SyncOrt,
    shapes: LayerShape[],
    output: MlpOutput,
  ) {
    this.step = ort.createSession(stepGraph(shapes, output), 1);
    this.forward = ort.createSession(forwardGraph(shapes, output), 1);
    this.stepFetches = Object.fromEntries(this.step.outputMetadata.map((o) => [o.name, null]));
  }

  weightFeeds(layers: LayerWeights[]): Record<string, unknown> {
    const { Tensor } = this.ort;
    const feeds: Record<string, unknown> = {};
    layers.forEach((layer, l) => {
      feeds[weightName(l)] = new Tensor('float32', layer.w, [layer.out, layer.in]);
      feeds[biasName(l)] = new Tensor('float32', layer.b, [layer.out]);
    });
    return feeds;
  }
}

/** The rows `rows` of x, gathered into a contiguous m × dim block. */
function gather(x: Float32Array, dim: number, rows: ArrayLike<number>, from: number, to: number, out: Float32Array): Float32Array {
  for (let i = from; i < to; i++) out.set(x.subarray(rows[i]! * dim, (rows[i]! + 1) * dim), (i - from) * dim);
  return out.subarray(0, (to - from) * dim);
}

/** The loss of row `row` given its probabilities p[at, at + k): cross-entropy of its label, or (multi-label) the sum of its labels' binary cross-entropies. */
function rowLoss(data: Dataset, row: number, p: Float32Array, at: number): number {
  const k = data.classes;
  const log = (v: number) => Math.log(Math.max(v, 1e-12));
  if (!data.targets) return -log(p[at + data.y[row]!]!);
  let loss = 0;
  for (let c = 0; c < k; c++) loss -= data.targets[row * k + c] ? log(p[at + c]!) : log(1 - p[at + c]!);
  return loss;
}

/** How good `layers` are on the rows `rows`, higher is better: accuracy, or (multi-label) minus the mean loss. */
function heldOutScore(sessions: Sessions, layers: LayerWeights[], data: Dataset, rows: Int32Array): number {
  const { dim, classes } = data;
  const x = gather(data.x, dim, rows, 0, rows.length, new Float32Array(rows.length * dim));
  const feeds = { ...sessions.weightFeeds(layers), x: new sessions.ort.Tensor('float32', x, [rows.length, dim]) };
  const p = sessions.forward.run(feeds as never, { probabilities: null }, {}).probabilities!.data as Float32Array;
  if (data.targets) return -rows.reduce((s, r, i) => s + rowLoss(data, r, p, i * classes), 0) / rows.length;
  let correct = 0;
  rows.forEach((r, i) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (p[i * classes + c]! > p[i * classes + best]!) best = c;
    if (best === data.y[r]) correct++;
  });
  return correct / rows.length;
}

/** Adam's state for one layer; `step` counts the updates it has had (a task's output layer moves only on that task's batches). */
class LayerMoments {
  private readonly mw: Float32Array;
  private readonly vw: Float32Array;
  private readonly mb: Float32Array;
  private readonly vb: Float32Array;
  private step = 0;

  constructor(private readonly layer: LayerWeights) {
    this.mw = new Float32Array(layer.w.length);
    this.vw = new Float32Array(layer.w.length);
    this.mb = new Float32Array(layer.b.length);
    this.vb = new Float32Array(layer.b.length);
  }

  /** One Adam step with scikit-learn's bias correction folded into the step size; the weights (not the biases) decay by `decay`. */
  update(gradW: Float32Array, gradB: Float32Array, learningRate: number, decay: number): void {
    this.step++;
    const rate = (learningRate * Math.sqrt(1 - BETA2 ** this.step)) / (1 - BETA1 ** this.step);
    const move = (param: Float32Array, grad: Float32Array, mo: Float32Array, ve: Float32Array, d: number) => {
      for (let i = 0; i < param.length; i++) {
        const gi = grad[i]! + d * param[i]!;
        mo[i] = BETA1 * mo[i]! + (1 - BETA1) * gi;
        ve[i] = BETA2 * ve[i]! + (1 - BETA2) * gi * gi;
        param[i] = param[i]! - (rate * mo[i]!) / (Math.sqrt(ve[i]!) + EPSILON);
      }
    };
    move(this.layer.w, gradW, this.mw, this.vw, decay);
    move(this.layer.b, gradB, this.mb, this.vb, 0);
  }
}

/** One task of a joint fit: its data set and the rows to train on (null: all). */
export interface JointTask {
  data: Dataset;
  rows: Int32Array | null;
}

export interface JointWeights {
  /** The hidden layers every task shares. */
  shared: LayerWeights[];
  /** Each task's output layer, in task order. */
  heads: LayerWeights[];
  epochs: number;
  /** The early-stopping rows' best score (mean over the tasks), or null when training stopped on its loss. */
  validationScore: number | null;
}

const copyLayer = (l: LayerWeights): LayerWeights => ({ ...l, w: l.w.slice(), b: l.b.slice() });

/**
 * Fits hidden layers shared by every task and one output layer per task
 * (multi-task learning; one task is the plain MLP). Each epoch deals every
 * task's training rows into batches of its own and runs the batches of all
 * tasks in a seeded random order: a batch moves the shared layers and its
 * task's output layer. Early stopping scores the mean of the tasks' held-out
 * scores. Tasks' texts may differ; their features must have one dimension.
 */
export function fitJointMlp(tasks: readonly JointTask[], fit: MlpFit): JointWeights {
  const ort = syncOrt();
  if (!ort) throw new Error('the mlp head needs onnxruntime-node');
  const dim = tasks[0]!.data.dim;
  if (tasks.some((t) => t.data.dim !== dim)) throw new Error('joint fit: every task needs features of one dimension');
  const rng = new Rng(fit.seed);
  const parts = tasks.map(({ data, rows }) => {
    const all = rows ?? Int32Array.from({ length: data.n }, (_, i) => i);
    return { data, all, split: fit.earlyStopping ? holdOut(data.y, all, data.classes, fit.validationFraction, rng) : null };
  });
  const byScore = parts.reduce((s, p) => s + (p.split?.held.length ?? 0), 0) >= MIN_HELD_OUT;
  const plan = parts.map((p) => ({
    data: p.data,
    train: byScore ? p.split!.train : p.all,
    held: byScore ? p.split!.held : new Int32Array(0),
  }));
  const sharedShapes = layerShapes([dim, ...fit.hidden]);
  const width = fit.hidden[fit.hidden.length - 1]!;
  const shared = initialLayers(sharedShapes, rng);
  const heads = plan.map((p) => initialLayers([{ in: width, out: p.data.classes }], rng)[0]!);
  const sessions = plan.map((p) => new Sessions(ort, [...sharedShapes, { in: width, out: p.data.classes }], p.data.targets ? 'sigmoid' : 'softmax'));
  const sharedMoments = shared.map((l) => new LayerMoments(l));
  const headMoments = heads.map((l) => new LayerMoments(l));
  const batchOf = plan.map((p) => Math.max(1, Math.min(fit.batchSize, p.train.length)));
  const widest = Math.max(...plan.map((p) => p.data.classes));
  const biggest = Math.max(...batchOf);
  const xBatch = new Float32Array(biggest * dim);
  const tBatch = new Float32Array(biggest * widest);
  const sBatch = new Float32Array(biggest);
  const { Tensor } = ort;
  const orders = plan.map((p) => Int32Array.from(p.train));
  const trainRows = plan.reduce((s, p) => s + p.train.length, 0);
  let best = byScore ? -Infinity : Infinity;
  let bestShared = shared;
  let bestHeads = heads;
  let stale = 0;
  let epochs = 0;
  while (epochs < fit.maxIter) {
    epochs++;
    const batches: Array<[task: number, from: number]> = [];
    plan.forEach((p, task) => {
      shuffle(orders[task]!, rng);
      for (let from = 0; from < p.train.length; from += batchOf[task]!) batches.push([task, from]);
    });
    // Fisher–Yates over the batches, so no task's batches all come last.
    for (let i = batches.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [batches[i], batches[j]] = [batches[j]!, batches[i]!];
    }
    let epochLoss = 0;
    for (const [task, from] of batches) {
      const { data } = plan[task]!;
      const order = orders[task]!;
      const k = data.classes;
      const to = Math.min(order.length, from + batchOf[task]!);
      const m = to - from;
      const x = gather(data.x, dim, order, from, to, xBatch);
      const t = tBatch.subarray(0, m * k).fill(0);
      const s = sBatch.subarray(0, m).fill(1 / m);
      for (let i = 0; i < m; i++) {
        const row = order[from + i]!;
        if (!data.targets) t[i * k + data.y[row]!] = 1 / m;
        else for (let c = 0; c < k; c++) t[i * k + c] = data.targets[row * k + c]! / m;
      }
      const layers = [...shared, heads[task]!];
      const session = sessions[task]!;
      const feeds = {
        ...session.weightFeeds(layers),
        x: new Tensor('float32', x, [m, dim]),
        t: new Tensor('float32', t, [m, k]),
        s: new Tensor('float32', s, [m, 1]),
      };
      const out = session.step.run(feeds as never, session.stepFetches, {});
      const p = out.probabilities!.data as Float32Array;
      let loss = 0;
      for (let i = 0; i < m; i++) loss += rowLoss(data, order[from + i]!, p, i * k);
      let squares = 0;
      for (const layer of layers) for (const v of layer.w) squares += v * v;
      epochLoss += loss + (0.5 * fit.alpha * squares) / m;
      const grad = (l: number) => [out[weightGradName(l)]!.data as Float32Array, out[biasGradName(l)]!.data as Float32Array] as const;
      for (const [l, mo] of sharedMoments.entries()) mo.update(...grad(l), fit.learningRate, fit.alpha / m);
      headMoments[task]!.update(...grad(shared.length), fit.learningRate, fit.alpha / m);
    }
    const scored = plan.map((p, task) => (p.held.length ? heldOutScore(sessions[task]!, [...shared, heads[task]!], p.data, p.held) : null));
    const present = scored.filter((v): v is number => v !== null);
    const score = byScore ? present.reduce((a, b) => a + b, 0) / present.length : epochLoss / trainRows;
    const improved = byScore ? score > best + fit.tol : score < best - fit.tol;
    if (byScore ? score > best : score < best) {
      best = score;
      bestShared = shared.map(copyLayer);
      bestHeads = heads.map(copyLayer);
    }
    stale = improved ? 0 : stale + 1;
    if (stale > fit.patience) break;
  }
  return byScore ? { shared: bestShared, heads: bestHeads, epochs, validationScore: best } : { shared, heads, epochs, validationScore: null };
}

/** Fits an MLP on the rows `rows` of `data` (all rows when null): the joint fit of one task. */
export function fitMlp(data: Dataset, rows: Int32Array | null, fit: MlpFit): MlpWeights {
  const joint = fitJointMlp([{ data, rows }], fit);
  return { layers: [...joint.shared, joint.heads[0]!], epochs: joint.epochs, validationScore: joint.validationScore };
}
