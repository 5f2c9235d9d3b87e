/**
 * npm run bench:little-data
 *
 * The start of a task's life (issue 12), on this encoder's last-layer
 * features (the default spec), against baselines measured in the same run:
 *
 * 1. Zero-shot on Banking77, TREC and SST-2: a text's label is the label text
 *    its features are closest to (the service's prototype head). Label texts:
 *    the bare names (the baseline), names as words, and descriptions
 *    (./lib/label-descriptions.ts; Banking77's from its names), each through
 *    every template tried. Also the cosine scale that minimises the log-loss.
 * 2. Few-shot on Banking77: 1, 2, 4, 8, 16 examples per label, 5 draws each:
 *    logistic regression (C=10, the reference's setting) and the prototype
 *    head, each with and without the label descriptions as extra examples
 *    (one row per label: its description's features).
 * 3. Active learning on Banking77: 2 examples per label to start, then 5
 *    rounds of 154 texts picked from the rest of the training split (labels
 *    revealed after each round), 3 seeds: random picks, least margin alone
 *    (diversity 0), and the service's suggestions (src/serving/suggestions.ts)
 *    at diversity 0.1 to 0.5; logistic regression (C=10) throughout.
 * 4. Cold start through the HTTP API (./lib/cold-start.ts): random picks against
 *    the suggestions' strategies on every shared single-label set. Alone:
 *    `-- --cold-start` (its flags are in ./lib/cold-start.ts).
 *
 * `-- --http`: issue 20's goals through the API instead (./lib/little-data-http.ts); `-- --skewed`: zero-shot
 * with a prior estimated on a skewed pool (./lib/skewed-prior.ts).
 *
 * Progress to stderr, the tables to stdout.
 */
import { availableParallelism, cpus } from 'node:os';
import { DEFAULT_MODEL } from '../src/config.js';
import type { FeatureSpec } from '../src/encoder/feature-spec.js';
import { ModelRegistry } from '../src/encoder/registry.js';
import type { Dataset } from '../src/heads/dataset.js';
import { argmaxRows, rng } from '../src/heads/evaluation.js';
import { LogisticPredictor } from '../src/heads/logistic/model.js';
import { fitLogistic } from '../src/heads/logistic/train.js';
import { DEFAULT_SCALE } from '../src/heads/prototype/params.js';
import { PrototypePredictor, prototypeArtifact } from '../src/heads/prototype/model.js';
import { fitPrototypes } from '../src/heads/prototype/trainer.js';
import { suggest } from '../src/serving/suggestions.js';
import { nameAsText } from '../src/heads/prototype/label-text.js';
import { loadSplits, type LabelledSplits } from './lib/heads.js';
import { DESCRIPTIONS } from './lib/label-descriptions.js';
import { littleDataHttp } from './lib/little-data-http.js';
import { skewedPriorBench } from './lib/skewed-prior.js';
import { fmt, mean, printTable } from './lib/stats.js';
import { coldStartBench, parseColdStart } from './lib/cold-start.js';

const log = (msg: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const TEMPLATES = ['{}', 'This text is about {}.', 'A question about {}.', 'Example: {}'];
const SHOTS = [1, 2, 4, 8, 16];
const DRAWS = 5;
const REFERENCE_FEW_SHOT = [0.54, 0.676, 0.768, 0.833, 0.879];
const REFERENCE_ZERO_SHOT_NAMES: Record<string, string> = { banking77: '62.2%', trec: '18.6–20.8%', sst2: '66.0–69.8%' };

const args = process.argv.slice(2);
const coldStart = parseColdStart(args);
if (args.includes('--http') || args.includes('--skewed')) {
  const opts = new Map<string, string>();
  for (let i = 0; i < args.length; i++) if (args[i]!.startsWith('--') && args[i + 1] && !args[i + 1]!.startsWith('--')) opts.set(args[i]!.slice(2), args[++i]!);
  await (args.includes('--http') ? littleDataHttp(opts) : skewedPriorBench(opts));
  process.exit(0);
}
if (args.includes('--cold-start')) {
  await coldStartBench(coldStart);
  process.exit(0);
}

const registry = await ModelRegistry.load({
  modelsDir: 'models',
  models: [DEFAULT_MODEL],
  threads: 2,
  maxBatchTokens: 8192,
  maxBatchSize: 64,
  maxQueuedTexts: 1e9,
});
const encoder = registry.get(DEFAULT_MODEL)!;
const layers = encoder.manifest.layers;
const spec: FeatureSpec = { model: DEFAULT_MODEL, layers: [layers], layerCombine: 'concat', pooling: 'mean', normalize: true };
const dim = encoder.manifest.hiddenSize;
const embed = async (texts: string[]) => (await encoder.encode(texts, [spec], { lane: 'bulk' })).features[0]!;
const started = performance.now();

interface Encoded {
  name: string;
  data: LabelledSplits;
  train: Float32Array;
  test: Float32Array;
}
const sets: Encoded[] = [];
try {
  for (const name of ['banking77', 'trec', 'sst2']) {
    const data = loadSplits(name);
    log(`${name}: encoding ${data.train.texts.length} + ${data.test.texts.length} texts`);
    sets.push({ name, data, train: await embed(data.train.texts), test: await embed(data.test.texts) });
  }

  // 1. Zero-shot.
  const accuracy = (proba: Float32Array, y: Int32Array, k: number) => {
    const p = argmaxRows(proba, y.length, k);
    return p.reduce((s, v, i) => s + (v === y[i] ? 1 : 0), 0) / y.length;
  };
  const logLoss = (proba: Float32Array, y: Int32Array, k: number) => -mean(Array.from(y, (c, i) => Math.log(Math.max(proba[i * k + c]!, 1e-12))));
  const zeroRows: string[][] = [];
  const cosines: Array<{ set: Encoded; prototypes: Float32Array; template: string; source: string }> = [];
  for (const set of sets) {
    const { labels } = set.data;
    const sources: Array<[string, (l: string) => string]> = [
      ['name, as written', (l) => l],
      ['name as words', (l) => nameAsText(l)],
      ...(DESCRIPTIONS[set.name] ? [['description', (l: string) => DESCRIPTIONS[set.name]![l]!] as [string, (l: string) => string]] : []),
    ];
    for (const [source, text] of sources) {
      const unitSum = new Float32Array(labels.length * dim);
      const templates = source === 'name, as written' ? ['{}'] : TEMPLATES;
      for (const template of templates) {
        const prototypes = await embed(labels.map((l) => template.replace('{}', text(l))));
        const unit = prototypeArtifact(prototypes, labels.length, dim, 1).prototypes;
        for (let i = 0; i < unit.length; i++) unitSum[i]! += unit[i]!;
        const proba = new PrototypePredictor(prototypeArtifact(prototypes, labels.length, dim, DEFAULT_SCALE)).predictProba(set.test, set.data.test.y.length);
        zeroRows.push([
          set.name,
          source,
          JSON.stringify(template),
          pct(accuracy(proba, set.data.test.y, labels.length)),
          source === 'name, as written' ? `reference ${REFERENCE_ZERO_SHOT_NAMES[set.name]}` : '',
        ]);
        cosines.push({ set, prototypes, template, source });
      }
      if (templates.length > 1) {
        const proba = new PrototypePredictor(prototypeArtifact(unitSum, labels.length, dim, DEFAULT_SCALE)).predictProba(set.test, set.data.test.y.length);
        zeroRows.push([set.name, source, 'the four, averaged', pct(accuracy(proba, set.data.test.y, labels.length)), '']);
      }
    }
  }
  // The scale: the log-loss over the three sets, each with its best source (descriptions where there are some).
  const scales = [5, 10, 15, 20, 30, 40, 50, 75, 100];
  const best = (set: Encoded) =>
    cosines.filter((c) => c.set === set && c.source === (DESCRIPTIONS[set.name] ? 'description' : 'name as words') && c.template === '{}')[0]!;
  const scaleRows = scales.map((scale) => {
    const losses = sets.map((set) => {
      const c = best(set);
      const proba = new PrototypePredictor(prototypeArtifact(c.prototypes, set.data.labels.length, dim, scale)).predictProba(set.test, set.data.test.y.length);
      return logLoss(proba, set.data.test.y, set.data.labels.length);
    });
    return [String(scale), ...losses.map((l) => fmt(l, 3)), fmt(mean(losses), 3)];
  });

  // 2. Few-shot on Banking77.
  const bank = sets[0]!;
  const k = bank.data.labels.length;
  const bankDescriptions = await embed(bank.data.labels.map((l) => DESCRIPTIONS.banking77![l]!));
  const byLabel = Array.from({ length: k }, () => [] as number[]);
  for (const [i, c] of bank.data.train.y.entries()) byLabel[c]!.push(i);
  const draw = (perLabel: number, seed: number): Int32Array => {
    const rand = rng(seed);
    const rows: number[] = [];
    for (const members of byLabel) {
      const pool = [...members];
      for (let i = 0; i < perLabel && pool.length; i++) rows.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]!);
    }
    return Int32Array.from(rows);
  };
  /** The rows `rows` of Banking77's training split, and (withDescriptions) one extra row per label: its description's features. */
  const subset = (rows: Int32Array, withDescriptions: boolean): Dataset => {
    const extra = withDescriptions ? k : 0;
    const x = new Float32Array((rows.length + extra) * dim);
    const y = new Int32Array(rows.length + extra);
    rows.forEach((r, i) => {
      x.set(bank.train.subarray(r * dim, (r + 1) * dim), i * dim);
      y[i] = bank.data.train.y[r]!;
    });
    for (let c = 0; c < extra; c++) {
      x.set(bankDescriptions.subarray(c * dim, (c + 1) * dim), (rows.length + c) * dim);
      y[rows.length + c] = c;
    }
    return { x, y, n: rows.length + extra, dim, classes: k };
  };
  const testAccuracy = (predictor: { predictProba(x: Float32Array, n: number): Float32Array }) =>
    accuracy(predictor.predictProba(bank.test, bank.data.test.y.length), bank.data.test.y, k);
  const lr = (data: Dataset) => {
    const { w, b } = fitLogistic(data, null, { C: 10, classWeight: undefined, maxIter: 500, tolerance: 1e-4 });
    return new LogisticPredictor({ format: 'softmax-linear', classes: k, dim, weights: Array.from(w), bias: Array.from(b) });
  };
  const heads: Array<[string, (d: Dataset) => { predictProba(x: Float32Array, n: number): Float32Array }, boolean]> = [
    ['logistic regression C=10', lr, false],
    ['logistic regression C=10 + descriptions', lr, true],
    ['prototype', (d) => new PrototypePredictor(fitPrototypes(d, DEFAULT_SCALE)), false],
    ['prototype + descriptions', (d) => new PrototypePredictor(fitPrototypes(d, DEFAULT_SCALE)), true],
  ];
  const fewRows: string[][] = [];
  const fewAcc = new Map<string, number[]>();
  for (const [name, fit, withDescriptions] of heads) {
    const row = [name];
    for (const shots of SHOTS) {
      log(`few-shot: ${name}, ${shots} per label`);
      const accs = Array.from({ length: DRAWS }, (_, d) => testAccuracy(fit(subset(draw(shots, 1000 * shots + d), withDescriptions))));
      fewAcc.set(`${name}|${shots}`, accs);
      row.push(`${pct(mean(accs))} ± ${fmt(100 * Math.sqrt(mean(accs.map((a) => (a - mean(accs)) ** 2))), 1)}`);
    }
    fewRows.push(row);
  }
  fewRows.push(['reference (scikit-learn LR C=10, issue 12)', ...REFERENCE_FEW_SHOT.map(pct)]);

  // 3. Active learning on Banking77.
  const ROUNDS = 5;
  const PER_ROUND = 154;
  const strategies: Array<[string, number | null]> = [
    ['random', null],
    ['least margin (diversity 0)', 0],
    ['suggestions, diversity 0.1', 0.1],
    ['suggestions, diversity 0.2', 0.2],
    ['suggestions, diversity 0.3', 0.3],
    ['suggestions, diversity 0.5', 0.5],
  ];
  const alRows: string[][] = [];
  const finals = new Map<string, number[]>();
  for (const [name, diversity] of strategies) {
    const curves: number[][] = [];
    for (let seed = 0; seed < 3; seed++) {
      log(`active learning: ${name}, seed ${seed}`);
      const labelled = new Set(draw(2, 77 + seed));
      const curve: number[] = [];
      let model = lr(subset(Int32Array.from(labelled), false));
      curve.push(testAccuracy(model));
      const rand = rng(991 + seed);
      for (let round = 0; round < ROUNDS; round++) {
        const pool = Int32Array.from({ length: bank.data.train.y.length }, (_, i) => i).filter((i) => !labelled.has(i));
        let picks: number[];
        if (diversity === null) {
          const order = Array.from(pool);
          for (let i = order.length - 1; i > 0; i--) {
            const j = Math.floor(rand() * (i + 1));
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          picks = order.slice(0, PER_ROUND);
        } else {
          const features = new Float32Array(pool.length * dim);
          for (const [i, r] of pool.entries()) features.set(bank.train.subarray(r * dim, (r + 1) * dim), i * dim);
          const probabilities = model.predictProba(features, pool.length);
          picks = suggest({ probabilities, features, n: pool.length, k, dim }, PER_ROUND, diversity).map((s) => pool[s.index]!);
        }
        for (const p of picks) labelled.add(p);
        model = lr(subset(Int32Array.from(labelled), false));
        curve.push(testAccuracy(model));
      }
      curves.push(curve);
    }
    const meanCurve = curves[0]!.map((_, r) => mean(curves.map((c) => c[r]!)));
    finals.set(
      name,
      curves.map((c) => c[ROUNDS]!),
    );
    alRows.push([name, ...meanCurve.map(pct)]);
  }
  alRows.push(['reference (issue 12): random 84.1%, least margin 88.1% after 5 rounds', '', '', '', '', '', '']);

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `bench:little-data — \`npm run bench:little-data\`, ${availableParallelism()} CPUs (${cpu}), ${new Date().toISOString().slice(0, 10)}; features: ${DEFAULT_MODEL} layer ${layers}, mean pooling, normalised; total ${fmt((performance.now() - started) / 60000)} min`,
  );
  console.log('\nZero-shot: test accuracy of the nearest label text (cosine), by label text and template.');
  printTable(['data set', 'label text', 'template', 'test acc', 'note'], zeroRows);
  console.log('\nZero-shot log-loss on each test set by cosine scale (descriptions where there are some, else names as words; template "{}").');
  printTable(['scale', ...sets.map((s) => s.name), 'mean'], scaleRows);
  console.log(`\nFew-shot on Banking77: test accuracy, mean ± sd of ${DRAWS} draws, by examples per label.`);
  printTable(['head', ...SHOTS.map((s) => `${s} per label`)], fewRows);
  console.log(`\nActive learning on Banking77: test accuracy after each round of ${PER_ROUND} labels (mean of 3 seeds), logistic regression C=10.`);
  printTable(['picks', 'start (154)', ...Array.from({ length: ROUNDS }, (_, r) => `round ${r + 1} (${154 * (r + 2)})`)], alRows);
  const random = mean(finals.get('random')!);
  for (const [name] of strategies.slice(1)) {
    const f = mean(finals.get(name)!);
    console.log(`${name}: ${pct(f)} after ${ROUNDS} rounds, ${f - random >= 0 ? '+' : ''}${fmt(100 * (f - random), 1)} points over random`);
  }
} finally {
  await registry.close();
}
console.log('');
await coldStartBench(coldStart);
