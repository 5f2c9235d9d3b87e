/**
 * The SVM head against the real libsvm (libsvm-js 0.2.1, an emscripten build
 * of libsvm 3.22): same models when trained alike, and model texts that each
 * side reads and predicts from identically.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Dataset } from '../../src/heads/dataset.js';
import { loadSvmPredictor, svmArtifact } from '../../src/heads/svm/artifact.js';
import { parseModelText, writeModelText } from '../../src/heads/svm/model-text.js';
import { resolveParams, type SvmParams } from '../../src/heads/svm/params.js';
import { SvmPredictor } from '../../src/heads/svm/predict.js';
import { assembleModel, groupClasses, trainPairs } from '../../src/heads/svm/train.js';
import { localKernel, trainSvmHere, trainSvmOnOwnPool } from '../helpers/svm.js';

interface LibsvmJs {
  train(samples: number[][], labels: number[]): void;
  predict(samples: number[][]): number[];
  predictProbability(samples: number[][]): Array<{ prediction: number; estimates: Array<{ label: number; probability: number }> }>;
  serializeModel(): string;
  free(): void;
}
interface LibsvmJsClass {
  new (options: Record<string, unknown>): LibsvmJs;
  load(text: string): LibsvmJs;
  KERNEL_TYPES: Record<'LINEAR' | 'POLYNOMIAL' | 'RBF', string>;
  SVM_TYPES: Record<'C_SVC', string>;
}
const SVM = createRequire(import.meta.url)('libsvm-js/asm') as LibsvmJsClass;
const LIBSVM_KERNEL = { linear: SVM.KERNEL_TYPES.LINEAR, poly: SVM.KERNEL_TYPES.POLYNOMIAL, rbf: SVM.KERNEL_TYPES.RBF };

/** Gaussian blobs around random class centres, one row per label; deterministic for a seed. */
function blobs(seed: number, labels: number[], dim: number, classes: number, spread = 1.2): Dataset {
  let s = seed;
  const uniform = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: classes }, () => Array.from({ length: dim }, () => gauss() * spread));
  const x = new Float32Array(labels.length * dim);
  labels.forEach((c, i) => {
    for (let d = 0; d < dim; d++) x[i * dim + d] = centres[c]![d]! + gauss();
  });
  return { x, n: labels.length, dim, y: Int32Array.from(labels), classes };
}

function cycling(n: number, classes: number): number[] {
  return Array.from({ length: n }, (_, i) => i % classes);
}

function runs(...counts: Array<[label: number, count: number]>): number[] {
  return counts.flatMap(([label, count]) => new Array<number>(count).fill(label));
}

/** The same centres for train and test: split one draw. */
function split(data: Dataset, nTrain: number): [Dataset, Dataset] {
  const part = (from: number, to: number): Dataset => ({
    x: data.x.slice(from * data.dim, to * data.dim),
    n: to - from,
    dim: data.dim,
    y: data.y.slice(from, to),
    classes: data.classes,
  });
  return [part(0, nTrain), part(nTrain, data.n)];
}

function rows(d: Dataset): number[][] {
  return Array.from({ length: d.n }, (_, i) => Array.from(d.x.subarray(i * d.dim, (i + 1) * d.dim)));
}

function trainLibsvm(d: Dataset, p: Partial<SvmParams> & { kernel: SvmParams['kernel']; C: number; gamma: number }, weight?: number[]): LibsvmJs {
  const svm = new SVM({
    type: SVM.SVM_TYPES.C_SVC,
    kernel: LIBSVM_KERNEL[p.kernel],
    cost: p.C,
    gamma: p.gamma,
    degree: p.degree ?? 3,
    coef0: p.coef0 ?? 0,
    probabilityEstimates: p.probability ?? false,
    weight: weight ? Object.fromEntries(weight.map((w, c) => [c, w])) : undefined,
    quiet: true,
  });
  svm.train(rows(d), Array.from(d.y));
  return svm;
}

function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const [train4, test4] = split(blobs(11, cycling(500, 4), 8, 4), 300);
const [train2, test2] = split(blobs(5, cycling(400, 2), 6, 2, 0.6), 250);

const cases: Array<{ name: string; train: Dataset; test: Dataset; params: Partial<SvmParams> & { kernel: SvmParams['kernel']; C: number; gamma: number } }> = [
  { name: 'rbf, 4 classes', train: train4, test: test4, params: { kernel: 'rbf', C: 10, gamma: 0.1 } },
  { name: 'linear, 4 classes', train: train4, test: test4, params: { kernel: 'linear', C: 1, gamma: 1 } },
  { name: 'poly, 4 classes', train: train4, test: test4, params: { kernel: 'poly', C: 1, gamma: 0.1, degree: 3, coef0: 1 } },
  { name: 'rbf, 2 classes', train: train2, test: test2, params: { kernel: 'rbf', C: 3, gamma: 0.2 } },
  { name: 'poly, 2 classes', train: train2, test: test2, params: { kernel: 'poly', C: 2, gamma: 0.2, degree: 2, coef0: 0.5 } },
];

for (const c of cases) {
  test(`${c.name}: trained like libsvm-js, the same decision function`, () => {
    const ours = trainSvmHere(c.train, { ...c.params, probability: false });
    const lib = trainLibsvm(c.train, c.params);
    const theirs = parseModelText(lib.serializeModel());

    assert.deepEqual([...ours.model.labels], [...theirs.labels]);
    // Same SVs, class by class: the solvers took the same path.
    assert.deepEqual([...ours.model.nSV], [...theirs.nSV]);
    // libsvm-js writes rho with 6 significant digits; the solvers stop at eps = 1e-3.
    assert.ok(maxAbsDiff(ours.model.rho, theirs.rho) < 5e-3, `rho ${[...ours.model.rho]} vs ${[...theirs.rho]}`);

    const oursDec = new SvmPredictor(ours.model).decisionValues(c.test.x, c.test.n);
    const theirsDec = new SvmPredictor(theirs).decisionValues(c.test.x, c.test.n);
    assert.ok(maxAbsDiff(oursDec, theirsDec) < 1e-2, `decision values differ by ${maxAbsDiff(oursDec, theirsDec)}`);
    assert.deepEqual([...new SvmPredictor(ours.model).predictLabels(c.test.x, c.test.n)], lib.predict(rows(c.test)));
    lib.free();
  });

  test(`${c.name}: libsvm-js loads our model text and predicts exactly as we do`, () => {
    const ours = trainSvmHere(c.train, { ...c.params, probability: true });
    const artifact = svmArtifact(ours.model, c.train.classes);
    const predictor = loadSvmPredictor(artifact);
    const loaded = SVM.load(artifact.model);

    assert.deepEqual([...predictor.predictLabels(c.test.x, c.test.n)], loaded.predict(rows(c.test)));
    const proba = predictor.predictProba(c.test.x, c.test.n);
    const k = c.train.classes;
    loaded.predictProbability(rows(c.test)).forEach((r, i) => {
      for (const e of r.estimates) assert.ok(Math.abs(e.probability - proba[i * k + e.label]!) < 1e-4, `row ${i} class ${e.label}`);
    });
    loaded.free();
  });
}

test('a model trained by libsvm-js, read by our parser, predicts as libsvm-js does', () => {
  const lib = trainLibsvm(train4, { kernel: 'rbf', C: 5, gamma: 0.15, probability: true });
  const text = lib.serializeModel();
  const predictor = new SvmPredictor(parseModelText(text));
  const samples = rows(test4);

  assert.deepEqual([...predictor.predictLabels(test4.x, test4.n)], lib.predict(samples));
  const proba = predictor.predictProba(test4.x, test4.n);
  lib.predictProbability(samples).forEach((r, i) => {
    for (const e of r.estimates) assert.ok(Math.abs(e.probability - proba[i * 4 + e.label]!) < 1e-4);
  });
  lib.free();
});

test('probability estimates behave like libsvm-js: rows sum to 1, accuracy on par', () => {
  const params = { kernel: 'rbf' as const, C: 10, gamma: 0.1, probability: true };
  const predictor = new SvmPredictor(trainSvmHere(train4, params).model);
  const proba = predictor.predictProba(test4.x, test4.n);
  for (let i = 0; i < test4.n; i++) {
    const row = proba.subarray(i * 4, (i + 1) * 4);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
  // The CV shuffles differ from libsvm's rand(), so Platt fits differ slightly, not the outcome.
  const lib = trainLibsvm(train4, params);
  const theirs = lib.predictProbability(rows(test4)).map((r) => r.prediction);
  const ours = Array.from({ length: test4.n }, (_, i) => argmax(proba.subarray(i * 4, (i + 1) * 4)));
  assert.ok(agreement(ours, theirs) >= 0.97, `agreement ${agreement(ours, theirs)}`);
  lib.free();
});

test('two classes: the probability is the pair sigmoid itself', () => {
  const model = trainSvmHere(train2, { kernel: 'rbf', C: 3, gamma: 0.2, probability: true }).model;
  const predictor = new SvmPredictor(model);
  const dec = predictor.decisionValues(test2.x, test2.n);
  const proba = predictor.predictProba(test2.x, test2.n);
  for (let i = 0; i < test2.n; i++) {
    const z = dec[i]! * model.probA![0]! + model.probB![0]!;
    assert.ok(Math.abs(proba[i * 2]! - 1 / (1 + Math.exp(z))) < 1e-6);
    assert.ok(Math.abs(proba[i * 2]! + proba[i * 2 + 1]! - 1) < 1e-6);
  }
});

test('two rows a class: the probabilities rank labels as the decision function does, never turned around', () => {
  // Leave-one-out on two rows a class goes against the labels, so a cross-validated Platt sigmoid would invert.
  const [train, test] = split(blobs(31, [...cycling(12, 6), ...cycling(600, 6)], 64, 6, 0.6), 12);
  const model = trainSvmHere(train, { kernel: 'rbf', C: 10, gamma: 'scale', probability: true }).model;
  assert.ok(
    [...model.probA!].every((a) => a < 0),
    `every pair's sigmoid rises with its decision value: ${[...model.probA!].map((a) => a.toFixed(2))}`,
  );
  const predictor = new SvmPredictor(model);
  const proba = predictor.predictProba(test.x, test.n);
  const byProba = Array.from({ length: test.n }, (_, i) => argmax(proba.subarray(i * 6, (i + 1) * 6)));
  const votes = [...predictor.predictLabels(test.x, test.n)];
  assert.ok(agreement(byProba, votes) >= 0.9, `agreement with the votes ${agreement(byProba, votes)}`);
  const accuracy = byProba.filter((c, i) => c === test.y[i]).length / test.n;
  assert.ok(accuracy > 0.5, `accuracy ${accuracy} (chance: 1/6)`);
});

test('class weights shift the boundary toward the rare class, as in libsvm-js', () => {
  const [train, test] = split(blobs(23, runs([0, 270], [1, 30], [0, 250], [1, 250]), 4, 2, 0.35), 300);
  const base = { kernel: 'rbf' as const, C: 1, gamma: 0.25, probability: false };
  const plain = new SvmPredictor(trainSvmHere(train, base).model).predictLabels(test.x, test.n);
  const weighted = trainSvmHere(train, { ...base, classWeight: 'balanced' }).model;
  const balanced = new SvmPredictor(weighted).predictLabels(test.x, test.n);
  const rare = (labels: Int32Array): number => labels.reduce((s, l) => s + (l === 1 ? 1 : 0), 0);
  assert.ok(rare(balanced) > rare(plain), `rare-class predictions: ${rare(plain)} → ${rare(balanced)}`);

  const weights = resolveParams(train, { ...base, classWeight: 'balanced' }).classC;
  const lib = trainLibsvm(train, base, weights);
  assert.deepEqual([...weighted.nSV], [...parseModelText(lib.serializeModel()).nSV]);
  assert.deepEqual([...balanced], lib.predict(rows(test)));
  lib.free();
});

test('pairs trained in separate batches assemble into the same model as trainSvm', () => {
  const params = { kernel: 'rbf' as const, C: 10, gamma: 0.1, probability: true, seed: 7 };
  const whole = trainSvmHere(train4, params);
  const resolved = resolveParams(train4, params);
  const groups = groupClasses(train4.y, train4.n, train4.classes);
  const ctx = { groups, params: resolved, kernel: localKernel(train4, resolved.kernel) };
  // As two workers would: odd and even pairs, results in any order.
  const results = [...trainPairs(ctx, [5, 3, 1]), ...trainPairs(ctx, [0, 2, 4])];
  const assembled = assembleModel(train4, groups, resolved, results);
  assert.equal(writeModelText(assembled.model), writeModelText(whole.model));
});

test('worker threads train the same model as the calling thread', async () => {
  const params = { kernel: 'rbf' as const, C: 10, gamma: 0.1, probability: true };
  const parallel = await trainSvmOnOwnPool(train4, params, 2);
  assert.equal(writeModelText(parallel.model), writeModelText(trainSvmHere(train4, params).model));
  // Without a shared kernel matrix (a cache that shares none), workers compute kernel rows from the shared features.
  const rowwise = await trainSvmOnOwnPool(train4, params, 2, 0);
  assert.deepEqual([...rowwise.model.nSV], [...parallel.model.nSV]);
});

test('the seed drives the probability cross-validation', () => {
  const p = { kernel: 'rbf' as const, C: 10, gamma: 0.1, probability: true };
  const a = trainSvmHere(train4, { ...p, seed: 1 }).model;
  const b = trainSvmHere(train4, { ...p, seed: 1 }).model;
  const c = trainSvmHere(train4, { ...p, seed: 2 }).model;
  assert.deepEqual([...a.probA!], [...b.probA!]);
  assert.notDeepEqual([...a.probA!], [...c.probA!]);
});

test('model text round-trips exactly and keeps classes absent from training', () => {
  const data: Dataset = { ...train4, classes: 6 };
  const { model } = trainSvmHere(data, { kernel: 'poly', C: 1, gamma: 0.1, degree: 2, coef0: 1 });
  const text = writeModelText(model);
  assert.equal(writeModelText(parseModelText(text)), text);
  assert.deepEqual(parseModelText(text).sv, model.sv);

  const predictor = loadSvmPredictor(svmArtifact(model, 6));
  assert.equal(predictor.classes, 6);
  const proba = predictor.predictProba(test4.x, test4.n);
  for (let i = 0; i < test4.n; i++) {
    assert.equal(proba[i * 6 + 4], 0);
    assert.equal(proba[i * 6 + 5], 0);
  }
});

test('the JS fallback predicts as the onnxruntime graph does', () => {
  const { model } = trainSvmHere(train4, { kernel: 'rbf', C: 10, gamma: 0.1, probability: true });
  const ort = new SvmPredictor(model);
  const js = new SvmPredictor(model, { backend: 'js' });
  assert.ok(maxAbsDiff(ort.decisionValues(test4.x, test4.n), js.decisionValues(test4.x, test4.n)) < 1e-4);
  assert.deepEqual(ort.predictLabels(test4.x, test4.n), js.predictLabels(test4.x, test4.n));
  // Features may live in a SharedArrayBuffer, which the native binding does not take directly.
  const sharedX = new Float32Array(new SharedArrayBuffer(test4.x.byteLength));
  sharedX.set(test4.x);
  assert.deepEqual(ort.predictProba(sharedX, test4.n), ort.predictProba(test4.x, test4.n));
});

test('without probability estimates, predictProba is one-hot on the voted class', () => {
  const { model } = trainSvmHere(train4, { kernel: 'linear', C: 1, probability: false });
  const predictor = new SvmPredictor(model);
  const labels = predictor.predictLabels(test4.x, test4.n);
  const proba = predictor.predictProba(test4.x, test4.n);
  for (let i = 0; i < test4.n; i++) assert.equal(proba[i * 4 + labels[i]!], 1);
});

function argmax(row: Float32Array): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
  return best;
}
