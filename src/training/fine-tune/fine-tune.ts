/**
 * Fine-tuning the top k layers of an imported encoder and a linear
 * classifier for one task, in the calling thread (a job's process):
 *
 * 1. the texts are tokenized and their hidden state L − k computed once, by
 *    the imported graph cut there (./frozen-states.ts);
 * 2. epochs of shuffled mini-batches (texts of a label paired for the
 *    contrastive objective) run the step graph (./graphs.ts) and AdamW
 *    between steps (./optimizer.ts), with warm-up then linear decay,
 *    gradients clipped, dropout masks drawn from the run's seeded generator;
 * 3. after each epoch the held-out texts, if any, are scored, and the
 *    checkpoint hook receives what a resumed run needs (./checkpoint.ts);
 *    the contrastive objective's classifier is fitted after the last epoch
 *    (logistic regression on the tuned embeddings), and scored then.
 *
 * A run is deterministic: the same inputs, recipe, seed and thread count give
 * the same weights bit for bit, and so does a run resumed from a checkpoint.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from 'onnxruntime-node';
import type { Binding } from 'onnxruntime-node/dist/binding.js';
import { DomainError } from '../../errors.js';
import { type BertConfig, checkBertConfig } from '../../encoder/import/bert-graph.js';
import { transpose } from '../../encoder/import/layer-stack.js';
import { readSafetensors, type Tensor as WeightTensor } from '../../encoder/import/safetensors.js';
import { LAYERS_FILE, type ModelManifest, readManifest } from '../../encoder/manifest.js';
import type { TunedStack } from '../../encoder/tuned-stack.js';
import { argmaxRows } from '../../heads/evaluation.js';
import type { LogisticArtifact } from '../../heads/logistic/model.js';
import { applyThresholds, DEFAULT_THRESHOLD, multiLabelScores } from '../../heads/multi-label.js';
import { Rng, treeSeed } from '../../heads/rng.js';
import { syncOrt } from '../../onnx/session.js';
import { batchFeeds } from './batch.js';
import type { EpochRecord, FineTuneCheckpoint } from './checkpoint.js';
import { DropoutMasks } from './dropout.js';
import { computeFrozenStates, type FrozenStates, frozenGraph } from './frozen-states.js';
import {
  CLASSIFIER_BIAS,
  CLASSIFIER_WEIGHT,
  embeddingGraph,
  evaluationGraph,
  type GraphSpec,
  gradName,
  type MaskInput,
  type Parameter,
  stepGraph,
} from './graphs.js';
import { clipFactor, decays, globalNorm, ParameterArena } from './optimizer.js';
import { probeClassifier } from './probe.js';
import { untrainableReason } from './params.js';
import { type FineTuneRecipe, learningRateAt, stepsOf } from './recipe.js';
import { tokenizerOf } from './tokens.js';

/** Single-label: each text's class index; multi-label: n × classes multi-hot targets. */
export type FineTuneLabels = { classes: number; y: Int32Array } | { classes: number; targets: Uint8Array };

export interface FineTuneInput {
  /** An imported model's folder (manifest with `trainable`, graph, layers.safetensors, tokenizer). */
  modelDir: string;
  texts: readonly string[];
  labels: FineTuneLabels;
  recipe: FineTuneRecipe;
  /** Texts scored after every epoch (labels in the same form as `labels`). */
  heldOut?: { texts: readonly string[]; labels: FineTuneLabels };
  /** A checkpoint of this same run: training continues after its epoch. */
  resume?: FineTuneCheckpoint;
  /** A checkpoint of another run (the examples or recipe changed since): throw (the default), or start over. */
  ifOtherRun?: 'throw' | 'restart';
  /** Texts a row in a step (several a row, each attending to itself): tokens a row, 0 for one text a row (default DEFAULT_ROW_TOKENS). */
  rowTokens?: number;
  /** Bound on the frozen states kept in memory (bytes); above it they are spilled to `spillDir`. */
  memoryBytes?: number;
  spillDir?: string;
  /** Where the classifier starts (weights classes × hidden, as logistic regression stores them); default: random. */
  classifier?: { weights: ArrayLike<number>; bias: ArrayLike<number> };
}

export interface StepProgress {
  /** Steps done (1-based), of `steps`. */
  step: number;
  steps: number;
  epoch: number;
  loss: number;
  /** Mean loss of the epoch's steps so far. */
  runningLoss: number;
}

export interface FineTuneHooks {
  progress?(p: StepProgress): void;
  /** Read between steps (and between runs of the frozen pass): true stops the run with DomainError `cancelled`. */
  cancelled?(): boolean;
  /** After every epoch; awaited before the next. */
  checkpoint?(c: FineTuneCheckpoint): void | Promise<void>;
}

export interface FineTuneStats {
  steps: number;
  /** Real tokens trained on (each text's tokens, once per epoch). */
  trainedTokens: number;
  /** Tokens the steps computed, padding included. */
  computedTokens: number;
  tokenizeSeconds: number;
  frozenSeconds: number;
  /** Seconds fitting a classifier by logistic regression: the probe (on the frozen pass's pooled last layer), or the contrastive objective's (its embedding pass included). */
  probeSeconds: number;
  /** Seconds in steps (graph, masks, optimizer), evaluation excluded. */
  trainSeconds: number;
  evaluateSeconds: number;
  /** Of trainSeconds: running the step graph, drawing masks, updating weights. */
  graphSeconds: number;
  maskSeconds: number;
  optimizerSeconds: number;
  frozenBytes: number;
  spilled: boolean;
  /** The whole run, tokenizing to the last evaluation. */
  totalSeconds: number;
}

export interface FineTuneResult {
  stack: TunedStack;
  /** The classifier on the tuned stack's mean-pooled output, as logistic regression stores one. */
  classifier: LogisticArtifact;
  history: EpochRecord[];
  /** The epoch of the checkpoint the run continued after; undefined when it started from the import. */
  resumedAfter?: number;
  /** The final weights' probabilities of the held-out texts, n × classes. */
  heldOutProbabilities?: Float32Array;
  stats: FineTuneStats;
}

/** The texts' order in epoch `epoch` (0-based) of a run seeded `seed`: a pure function, so a run resumes in order. */
export function epochOrder(seed: number, epoch: number, n: number): Int32Array {
  const rng = new Rng(treeSeed(seed, 1000 + epoch));
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * Tokens a row of a step: short texts share rows instead of padding to the batch's longest (TREC: 46 % of the
 * computed tokens were padding one text a row, 5 % in rows of 64, and trained tokens/s rose 1.5×;
 * docs/benchmarks/finetune.md).
 */
export const DEFAULT_ROW_TOKENS = 64;

const DROPOUT_STREAM = 1;
const CLASSIFIER_STREAM = 2;
/** Standard deviation of the classifier's initial weights (BERT's initializer range); its bias starts at 0. */
const CLASSIFIER_INIT = 0.02;
/** Tokens a row and a run when scoring held-out texts (no gradients: larger runs than a step's). */
const EVAL_ROW_TOKENS = 128;
const EVAL_RUN_TOKENS = 2048;

/** Normal draws by Box–Muller from a seeded generator. */
function normals(n: number, sd: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = (rng.nextU32() + 1) / 4294967297;
    const v = rng.nextU32() / 4294967296;
    const r = sd * Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

function runFingerprint(input: FineTuneInput, manifest: ModelManifest): string {
  const h = createHash('sha256');
  const { threads: _threads, ...recipe } = input.recipe;
  h.update(
    JSON.stringify({
      recipe,
      model: manifest.sourceSha256,
      n: input.texts.length,
      classes: input.labels.classes,
      rowTokens: input.rowTokens ?? DEFAULT_ROW_TOKENS,
    }),
  );
  for (const t of input.texts) h.update(t).update('\u0000');
  if (input.classifier) h.update(Float32Array.from(input.classifier.weights)).update(Float32Array.from(input.classifier.bias));
  const l = input.labels;
  h.update('y' in l ? new Uint8Array(l.y.buffer, l.y.byteOffset, l.y.byteLength) : l.targets);
  return h.digest('hex');
}

function scoreHeldOut(labels: FineTuneLabels, proba: Float32Array, n: number): EpochRecord['heldOut'] {
  const k = labels.classes;
  if ('y' in labels) {
    const predicted = argmaxRows(proba, n, k);
    let correct = 0;
    for (let i = 0; i < n; i++) if (predicted[i] === labels.y[i]) correct++;
    return { accuracy: n ? correct / n : 0 };
  }
  const thresholds = new Float32Array(k).fill(DEFAULT_THRESHOLD);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const names = Array.from({ length: k }, (_, c) => String(c));
  return { macroF1: multiLabelScores(labels.targets, applyThresholds(proba, n, thresholds), names, rows, thresholds).macro_f1 };
}

function checkLabels(labels: FineTuneLabels, n: number, what: string): void {
  if (!Number.isInteger(labels.classes) || labels.classes < ('y' in labels ? 2 : 1)) throw new Error(`${what}: too few classes`);
  if ('y' in labels) {
    if (labels.y.length !== n) throw new Error(`${what}: ${labels.y.length} labels for ${n} texts`);
    for (const c of labels.y) if (c < 0 || c >= labels.classes) throw new Error(`${what}: label ${c} outside [0, ${labels.classes})`);
  } else if (labels.targets.length !== n * labels.classes) throw new Error(`${what}: targets are not ${n} × ${labels.classes}`);
}

/**
 * Runs a forward graph (evaluation or embedding) over every text of `states`, shortest first in runs of up to
 * EVAL_RUN_TOKENS tokens; its output `name`, `width` values a text, in the texts' order.
 */
function runForward(
  session: Binding.InferenceSession,
  states: FrozenStates,
  weights: Record<string, Tensor>,
  name: 'probabilities' | 'pooled',
  width: number,
): Float32Array {
  const n = states.lengths.length;
  const out = new Float32Array(n * width);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => states.lengths[a]! - states.lengths[b]! || a - b);
  for (let from = 0; from < n; ) {
    let tokens = 0;
    let to = from;
    while (to < n && (to === from || tokens + states.lengths[order[to]!]! <= EVAL_RUN_TOKENS)) tokens += states.lengths[order[to++]!]!;
    const texts = order.slice(from, to);
    const { feeds } = batchFeeds(states, texts, EVAL_ROW_TOKENS);
    const p = session.run({ ...feeds, ...weights } as never, { [name]: null }, {})[name]!.data as Float32Array;
    for (const [j, i] of texts.entries()) out.set(p.subarray(j * width, (j + 1) * width), i * width);
    from = to;
  }
  return out;
}

/**
 * The texts' order in epoch `epoch` of a contrastive run: each label's texts shuffled and cut into pairs, the pairs
 * shuffled, so that a batch holds texts of a label together. A pure function, like epochOrder.
 */
export function pairedOrder(seed: number, epoch: number, y: Int32Array): Int32Array {
  const rng = new Rng(treeSeed(seed, 2000 + epoch));
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  };
  const byLabel = new Map<number, number[]>();
  for (const [i, c] of y.entries()) {
    const members = byLabel.get(c);
    if (members) members.push(i);
    else byLabel.set(c, [i]);
  }
  const pairs: number[][] = [];
  for (const c of [...byLabel.keys()].sort((a, b) => a - b)) {
    const members = shuffle(byLabel.get(c)!);
    for (let i = 0; i < members.length; i += 2) pairs.push(members.slice(i, i + 2));
  }
  return Int32Array.from(shuffle(pairs).flat());
}

/** The contrastive step's label feeds for a batch of `texts` (see supervisedContrastive). */
function contrastFeeds(y: Int32Array, texts: Int32Array): { positives: Tensor; exclude: Tensor } {
  const n = texts.length;
  const positives = new Float32Array(n * n);
  const exclude = new Float32Array(n * n);
  const counts = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    exclude[i * n + i] = -1e4;
    for (let j = 0; j < n; j++) if (j !== i && y[texts[j]!] === y[texts[i]!]) counts[i]!++;
  }
  const anchors = counts.filter((c) => c > 0).length;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (j !== i && y[texts[j]!] === y[texts[i]!]) positives[i * n + j] = 1 / (counts[i]! * anchors);
  return { positives: new Tensor('float32', positives, [n, n]), exclude: new Tensor('float32', exclude, [n, n]) };
}

/** The shape of mask `m` in a batch of `texts` texts laid out [rows, width]. */
function maskDims(m: MaskInput, rows: number, width: number, texts: number, config: BertConfig): number[] {
  if (m.site === 'pooled') return [texts, config.hidden_size];
  if (m.site === 'attention') return [rows, config.num_attention_heads, width, width];
  return [rows, width, config.hidden_size];
}

/** Fine-tunes (see the module header). Throws DomainError `cancelled` when `hooks.cancelled` says so. */
export async function fineTune(input: FineTuneInput, hooks: FineTuneHooks = {}): Promise<FineTuneResult> {
  const started = performance.now();
  const { recipe, labels } = input;
  const manifest = readManifest(input.modelDir);
  const why = untrainableReason(manifest);
  if (why || !manifest) throw new Error(why);
  const config = checkBertConfig(JSON.parse(readFileSync(join(input.modelDir, 'config.json'), 'utf8')) as Record<string, unknown>);
  const L = manifest.layers;
  const k = recipe.layers;
  if (!(k >= 1 && k <= L)) throw new Error(`layers ${k} outside [1, ${L}]`);
  const n = input.texts.length;
  if (n === 0) throw new Error('no texts to fine-tune on');
  checkLabels(labels, n, 'labels');
  if (input.heldOut) checkLabels(input.heldOut.labels, input.heldOut.texts.length, 'held-out labels');
  const classes = labels.classes;
  const output = 'y' in labels ? 'softmax' : 'sigmoid';
  if (recipe.objective === 'contrastive' && !('y' in labels && new Set(labels.y).size < n))
    throw new Error('the contrastive objective needs single-label texts, some label with two');
  const run = runFingerprint(input, manifest);
  if (input.resume && input.resume.run !== run) {
    if (input.ifOtherRun !== 'restart') throw new Error('the checkpoint belongs to another run (recipe, texts, labels or model differ)');
    input = { ...input, resume: undefined };
  }
  const checkCancel = () => {
    if (hooks.cancelled?.()) throw new DomainError('cancelled', 'cancelled');
  };
  const ort = syncOrt();
  if (!ort) throw new Error('onnxruntime-node is not available');
  const stats: FineTuneStats = {
    steps: 0,
    trainedTokens: 0,
    computedTokens: 0,
    tokenizeSeconds: 0,
    frozenSeconds: 0,
    probeSeconds: 0,
    trainSeconds: 0,
    evaluateSeconds: 0,
    graphSeconds: 0,
    maskSeconds: 0,
    optimizerSeconds: 0,
    frozenBytes: 0,
    spilled: false,
    totalSeconds: 0,
  };

  // 1. Tokens, and the frozen states of every text (held-out ones too), once.
  let t0 = performance.now();
  const tokenize = await tokenizerOf(input.modelDir, recipe.maxTokens);
  const ids = input.texts.map(tokenize);
  const heldIds = input.heldOut?.texts.map(tokenize);
  stats.tokenizeSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const first = L - k;
  const modelBytes = readFileSync(join(input.modelDir, 'onnx', 'model.onnx'));
  // The probe's features (the last hidden state, pooled) come out of the frozen pass over the training texts.
  const probing = !input.classifier && recipe.probe && !input.resume && recipe.objective === 'classification';
  const H = config.hidden_size;
  const storeOptions = {
    ...(input.memoryBytes !== undefined ? { memoryBytes: input.memoryBytes } : {}),
    ...(input.spillDir ? { spillDir: input.spillDir } : {}),
    checkCancel,
  };
  const sessionFor = (pooled?: number) =>
    ort.createSession(frozenGraph(modelBytes, H, { states: first, ...(pooled !== undefined ? { pooled } : {}) }), recipe.threads);
  let session: Binding.InferenceSession | undefined = sessionFor(probing ? L : undefined);
  let states: (FrozenStates & { pooled?: Float32Array }) | undefined;
  let held: FrozenStates | undefined;
  try {
    try {
      states = await computeFrozenStates(session, ids, H, storeOptions);
      if (heldIds) {
        // The held-out texts need only the cut layer: a graph that does not also pool, when the training pass did.
        if (probing) {
          session.dispose();
          session = undefined;
          session = sessionFor();
        }
        held = await computeFrozenStates(session, heldIds, H, storeOptions);
      }
    } finally {
      session?.dispose();
    }
    stats.frozenSeconds = (performance.now() - t0) / 1000;
    stats.frozenBytes = states.bytes + (held?.bytes ?? 0);
    stats.spilled = states.spilled || held?.spilled === true;
    if (probing) {
      const t = performance.now();
      input = { ...input, classifier: probeClassifier(states.pooled!, H, labels) };
      stats.probeSeconds = (performance.now() - t) / 1000;
    }
    return await train(input, hooks, { config, manifest, states, held, first, classes, output, run, checkCancel, stats, started });
  } finally {
    states?.close();
    held?.close();
  }
}

interface Prepared {
  config: BertConfig;
  manifest: ModelManifest;
  states: FrozenStates;
  held: FrozenStates | undefined;
  first: number;
  classes: number;
  output: 'softmax' | 'sigmoid';
  run: string;
  checkCancel: () => void;
  stats: FineTuneStats;
  started: number;
}

async function train(input: FineTuneInput, hooks: FineTuneHooks, prepared: Prepared): Promise<FineTuneResult> {
  const { recipe, labels } = input;
  const { config, manifest, states, held, first, classes, output, stats } = prepared;
  const ort = syncOrt()!;
  const L = manifest.layers;
  const spec: GraphSpec = { dims: config, first, last: L - 1, classes, output };
  const dropout = recipe.dropout > 0;
  const contrastive = recipe.objective === 'contrastive';
  // The contrastive objective is single-label (fineTune checks): its pairs and positives come from the classes.
  const contrastY = contrastive ? (labels as { y: Int32Array }).y : undefined;
  const step = stepGraph(spec, dropout, recipe.objective);
  const stepSession = ort.createSession(step.bytes, recipe.threads);
  const evalSession = held ? ort.createSession(evaluationGraph(spec).bytes, recipe.threads) : undefined;

  // 2. Parameters: the checkpoint's, or the import's layers and a fresh classifier, in the optimizer's memory.
  const arena = new ParameterArena(step.parameters.map((p) => p.dims.reduce((a, b) => a * b, 1)));
  const parameters = new Map(step.parameters.map((p, i) => [p.input, arena.weights[i]!]));
  const resume = input.resume;
  const layers = resume ? undefined : readSafetensors(join(input.modelDir, LAYERS_FILE));
  const classifierRng = new Rng(treeSeed(recipe.seed, CLASSIFIER_STREAM));
  for (const [i, p] of step.parameters.entries()) {
    const data = arena.weights[i]!;
    const size = data.length;
    if (resume) {
      const saved = resume.parameters.get(p.input);
      if (!saved || saved.data.length !== size) throw new Error(`the checkpoint has no parameter ${p.input} of [${p.dims}]`);
      data.set(saved.data);
      const moments = resume.moments.get(p.input);
      if (moments) {
        arena.m[i]!.set(moments.m);
        arena.v[i]!.set(moments.v);
      }
    } else if (p.tensor) {
      const t = layers!.get(p.tensor);
      if (!t) throw new Error(`${LAYERS_FILE} has no tensor ${p.tensor}`);
      data.set(p.transposed ? transpose(t.data, t.shape[0]!, t.shape[1]!) : t.data);
    } else if (input.classifier && (p.input === CLASSIFIER_WEIGHT || p.input === CLASSIFIER_BIAS)) {
      const given = p.input === CLASSIFIER_WEIGHT ? input.classifier.weights : input.classifier.bias;
      if (given.length !== size) throw new Error(`the starting classifier's ${p.input} has ${given.length} values, not ${size}`);
      data.set(given);
    } else if (p.input === CLASSIFIER_WEIGHT) data.set(normals(size, CLASSIFIER_INIT, classifierRng));
  }
  const paramTensors: Record<string, Tensor> = {};
  for (const [i, p] of step.parameters.entries()) paramTensors[p.input] = new Tensor('float32', arena.weights[i]!, p.dims);
  const fetches: Record<string, Tensor | null> = { loss: null };
  for (const [i, p] of step.parameters.entries()) fetches[gradName(p.input)] = new Tensor('float32', arena.grads[i]!, p.dims);
  const decay = step.parameters.map((p) => (decays(p.input) ? recipe.weightDecay : 0));

  const dropoutRng = resume ? Rng.resume(resume.dropoutRng) : new Rng(treeSeed(recipe.seed, DROPOUT_STREAM));
  const masks = new DropoutMasks(recipe.dropout, dropoutRng);
  const n = input.texts.length;
  const perEpoch = Math.ceil(n / recipe.batchSize);
  const steps = stepsOf(n, recipe);
  const history: EpochRecord[] = resume ? [...resume.history] : [];
  let done = resume?.step ?? 0;
  let heldOutProbabilities: Float32Array | undefined;
  const H = config.hidden_size;
  const rowTokens = input.rowTokens ?? DEFAULT_ROW_TOKENS;

  try {
    for (let epoch = resume?.epoch ?? 0; epoch < recipe.epochs; epoch++) {
      const order = contrastY ? pairedOrder(recipe.seed, epoch, contrastY) : epochOrder(recipe.seed, epoch, n);
      const epochStarted = performance.now();
      let lossSum = 0;
      for (let b = 0; b < perEpoch; b++) {
        // A turn of the event loop a step: the job's process hears its cancel, and its progress goes out.
        await new Promise((ok) => setImmediate(ok));
        prepared.checkCancel();
        const texts = order.subarray(b * recipe.batchSize, Math.min(n, (b + 1) * recipe.batchSize));
        const batch = batchFeeds(states, texts, rowTokens);
        const feeds: Record<string, Tensor> = { ...batch.feeds, ...paramTensors };
        if (contrastY) Object.assign(feeds, contrastFeeds(contrastY, texts));
        else if ('y' in labels)
          feeds.labels = new Tensor(
            'int64',
            BigInt64Array.from(texts, (i) => BigInt(labels.y[i]!)),
            [texts.length],
          );
        else {
          const t = new Float32Array(texts.length * classes);
          for (let j = 0; j < texts.length; j++) for (let c = 0; c < classes; c++) t[j * classes + c] = labels.targets[texts[j]! * classes + c]!;
          feeds.targets = new Tensor('float32', t, [texts.length, classes]);
        }
        let t = performance.now();
        for (const m of step.masks) {
          const dims = maskDims(m, batch.rows, batch.width, texts.length, config);
          const values = new Float32Array(dims.reduce((a, c) => a * c, 1));
          masks.fill(values);
          feeds[m.input] = new Tensor('float32', values, dims);
        }
        stats.maskSeconds += (performance.now() - t) / 1000;
        t = performance.now();
        const out = stepSession.run(feeds as never, fetches as never, {});
        stats.graphSeconds += (performance.now() - t) / 1000;
        t = performance.now();
        const loss = (out.loss!.data as Float32Array)[0]!;
        if (!Number.isFinite(loss)) throw new Error(`the loss is ${loss} at step ${done + 1}: lower the learning rate`);
        const scale = clipFactor(globalNorm(arena.grads), recipe.clipNorm);
        const lr = learningRateAt(done, steps, recipe);
        done++;
        arena.update(done, lr, decay, scale);
        stats.optimizerSeconds += (performance.now() - t) / 1000;
        stats.steps++;
        stats.trainedTokens += batch.tokens;
        stats.computedTokens += batch.rows * batch.width;
        lossSum += loss;
        hooks.progress?.({ step: done, steps, epoch: epoch + 1, loss, runningLoss: lossSum / (b + 1) });
      }
      const seconds = (performance.now() - epochStarted) / 1000;
      stats.trainSeconds += seconds;
      const record: EpochRecord = { epoch: epoch + 1, loss: lossSum / perEpoch, seconds };
      if (held && evalSession && input.heldOut && !contrastive) {
        const t = performance.now();
        heldOutProbabilities = runForward(evalSession, held, paramTensors, 'probabilities', classes);
        record.heldOut = scoreHeldOut(input.heldOut.labels, heldOutProbabilities, held.lengths.length);
        stats.evaluateSeconds += (performance.now() - t) / 1000;
      }
      history.push(record);
      await hooks.checkpoint?.({
        epoch: epoch + 1,
        step: done,
        parameters: new Map(step.parameters.map((p) => [p.input, { shape: p.dims, data: Float32Array.from(parameters.get(p.input)!) }])),
        moments: new Map(step.parameters.map((p, i) => [p.input, { m: Float32Array.from(arena.m[i]!), v: Float32Array.from(arena.v[i]!) }])),
        dropoutRng: dropoutRng.state(),
        history: [...history],
        run: prepared.run,
      });
    }
    if (contrastive) {
      // The classifier: logistic regression on the tuned embeddings of the training texts, scored on the held-out.
      const t = performance.now();
      const embedSession = ort.createSession(embeddingGraph(spec).bytes, recipe.threads);
      let embedded: Float32Array;
      try {
        embedded = runForward(embedSession, states, paramTensors, 'pooled', H);
      } finally {
        embedSession.dispose();
      }
      const fitted = probeClassifier(embedded, H, labels);
      parameters.set(CLASSIFIER_WEIGHT, fitted.weights).set(CLASSIFIER_BIAS, fitted.bias);
      paramTensors[CLASSIFIER_WEIGHT] = new Tensor('float32', fitted.weights, [classes, H]);
      paramTensors[CLASSIFIER_BIAS] = new Tensor('float32', fitted.bias, [classes]);
      stats.probeSeconds += (performance.now() - t) / 1000;
    }
    if (held && evalSession && input.heldOut && !heldOutProbabilities) {
      const t = performance.now();
      heldOutProbabilities = runForward(evalSession, held, paramTensors, 'probabilities', classes);
      if (contrastive) history[history.length - 1]!.heldOut = scoreHeldOut(input.heldOut.labels, heldOutProbabilities, held.lengths.length);
      stats.evaluateSeconds += (performance.now() - t) / 1000;
    }
  } finally {
    stepSession.dispose();
    evalSession?.dispose();
  }
  stats.totalSeconds = (performance.now() - prepared.started) / 1000;
  return {
    stack: tunedStackOf(step.parameters, parameters, manifest, first, L - 1),
    classifier: {
      format: 'softmax-linear',
      classes,
      dim: config.hidden_size,
      weights: Array.from(parameters.get(CLASSIFIER_WEIGHT)!),
      bias: Array.from(parameters.get(CLASSIFIER_BIAS)!),
      ...(output === 'sigmoid' ? { output: 'sigmoid' as const } : {}),
    },
    history,
    ...(resume ? { resumedAfter: resume.epoch } : {}),
    ...(heldOutProbabilities ? { heldOutProbabilities } : {}),
    stats,
  };
}

/** The tuned layers' weights in the checkpoint's layout ([out, in] linear weights), by checkpoint name. */
function tunedStackOf(params: readonly Parameter[], values: Map<string, Float32Array>, manifest: ModelManifest, first: number, last: number): TunedStack {
  const tensors = new Map<string, WeightTensor>();
  for (const p of params) {
    if (!p.tensor) continue;
    const data = values.get(p.input)!;
    if (p.transposed) {
      const [inDim, outDim] = p.dims as [number, number];
      tensors.set(p.tensor, { shape: [outDim, inDim], data: transpose(data, inDim, outDim) });
    } else tensors.set(p.tensor, { shape: p.dims, data: Float32Array.from(data) });
  }
  return { model: { name: manifest.name, sourceSha256: manifest.sourceSha256 }, first, last, tensors };
}
