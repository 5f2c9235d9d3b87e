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

/** Fits an MLP on the rows `rows` of `data` (all rows when null). */
export function fitMlp(data: Dataset, rows: Int32Array | null, fit: MlpFit): MlpWeights {
  const ort = syncOrt();
  if (!ort) throw new Error('the mlp head needs onnxruntime-node');
  const { dim, classes: k } = data;
  const rng = new Rng(fit.seed);
  const all = rows ?? Int32Array.from({ length: data.n }, (_, i) => i);
  const split = fit.earlyStopping ? holdOut(data.y, all, k, fit.validationFraction, rng) : null;
  const held = split && split.held.length >= MIN_HELD_OUT ? split.held : null;
  const byScore = held !== null;
  const train = held ? split!.train : all;
  const shapes = layerShapes([dim, ...fit.hidden, k]);
  const sessions = new Sessions(ort, shapes, data.targets ? 'sigmoid' : 'softmax');
  const layers = initialLayers(shapes, rng);
  const moments = layers.map((l) => ({
    mw: new Float32Array(l.w.length),
    vw: new Float32Array(l.w.length),
    mb: new Float32Array(l.b.length),
    vb: new Float32Array(l.b.length),
  }));

  const batch = Math.max(1, Math.min(fit.batchSize, train.length));
  const xBatch = new Float32Array(batch * dim);
  const tBatch = new Float32Array(batch * k);
  const sBatch = new Float32Array(batch);
  const { Tensor } = ort;
  let step = 0;
  let best = byScore ? -Infinity : Infinity;
  let bestLayers = layers;
  let stale = 0;
  let epochs = 0;
  const order = Int32Array.from(train);
  while (epochs < fit.maxIter) {
    epochs++;
    shuffle(order, rng);
    let epochLoss = 0;
    for (let from = 0; from < order.length; from += batch) {
      const to = Math.min(order.length, from + batch);
      const m = to - from;
      const x = gather(data.x, dim, order, from, to, xBatch);
      const t = tBatch.subarray(0, m * k).fill(0);
      const s = sBatch.subarray(0, m).fill(1 / m);
      for (let i = 0; i < m; i++) {
        const row = order[from + i]!;
        if (!data.targets) t[i * k + data.y[row]!] = 1 / m;
        else for (let c = 0; c < k; c++) t[i * k + c] = data.targets[row * k + c]! / m;
      }
      const feeds = {
        ...sessions.weightFeeds(layers),
        x: new Tensor('float32', x, [m, dim]),
        t: new Tensor('float32', t, [m, k]),
        s: new Tensor('float32', s, [m, 1]),
      };
      const out = sessions.step.run(feeds as never, sessions.stepFetches, {});
      const p = out.probabilities!.data as Float32Array;
      let loss = 0;
      for (let i = 0; i < m; i++) loss += rowLoss(data, order[from + i]!, p, i * k);
      let squares = 0;
      for (const layer of layers) for (const v of layer.w) squares += v * v;
      epochLoss += loss + (0.5 * fit.alpha * squares) / m;
      // Adam, with scikit-learn's bias correction folded into the step size.
      step++;
      const rate = (fit.learningRate * Math.sqrt(1 - BETA2 ** step)) / (1 - BETA1 ** step);
      const update = (param: Float32Array, grad: Float32Array, mo: Float32Array, ve: Float32Array, decay: number) => {
        for (let i = 0; i < param.length; i++) {
          const gi = grad[i]! + decay * param[i]!;
          mo[i] = BETA1 * mo[i]! + (1 - BETA1) * gi;
          ve[i] = BETA2 * ve[i]! + (1 - BETA2) * gi * gi;
          param[i] = param[i]! - (rate * mo[i]!) / (Math.sqrt(ve[i]!) + EPSILON);
        }
      };
      layers.forEach((layer, l) => {
        const mo = moments[l]!;
        update(layer.w, out[weightGradName(l)]!.data as Float32Array, mo.mw, mo.vw, fit.alpha / m);
        update(layer.b, out[biasGradName(l)]!.data as Float32Array, mo.mb, mo.vb, 0);
      });
    }
    const score = byScore ? heldOutScore(sessions, layers, data, held) : epochLoss / order.length;
    const improved = byScore ? score > best + fit.tol : score < best - fit.tol;
    if (byScore ? score > best : score < best) {
      best = score;
      bestLayers = layers.map((layer) => ({ ...layer, w: layer.w.slice(), b: layer.b.slice() }));
    }
    stale = improved ? 0 : stale + 1;
    if (stale > fit.patience) break;
  }
  return { layers: byScore ? bestLayers : layers, epochs, validationScore: byScore ? best : null };
}
