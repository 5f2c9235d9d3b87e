/**
 * bench:heads' multi-label part: GoEmotions (28 labels; train on train,
 * score on dev, as the GoEmotions paper's figures are given), the service's
 * multi-label heads through runPipeline against scikit-learn's
 * OneVsRestClassifier(LogisticRegression) on the same features at
 * thresholds of 0.5. The service's heads are scored twice on dev: with the
 * per-label thresholds their cross-validation chose, and at 0.5 (the
 * reference's rule), so the thresholds' share of the difference shows.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Encoder } from '../../src/encoder/encoder.js';
import type { FeatureSpec } from '../../src/encoder/feature-spec.js';
import { applyThresholds, DEFAULT_THRESHOLD, multiLabelScores, rarestLabel } from '../../src/heads/multi-label.js';
import { loadPredictor } from '../../src/heads/registry.js';
import { runPipeline } from '../../src/training/pipeline.js';
import { normalizeRequest, trainingRequestSchema, type TrainingRequestInput } from '../../src/training/request.js';
import { DATASETS_DIR } from './datasets.js';
import { fmt } from './stats.js';

interface Split {
  texts: string[];
  targets: Uint8Array;
}

/** GoEmotions' split `file` as multi-hot rows over `labels` (null: the labels are taken from this split, sorted). */
function loadSets(file: string, labels: string[] | null): { labels: string[]; split: Split } {
  const rows = readFileSync(join(DATASETS_DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { text: string; labels: string[] });
  const all = labels ?? [...new Set(rows.flatMap((r) => r.labels))].sort();
  const index = new Map(all.map((l, i) => [l, i]));
  const targets = new Uint8Array(rows.length * all.length);
  rows.forEach((r, i) => {
    for (const l of r.labels) if (index.has(l)) targets[i * all.length + index.get(l)!] = 1;
  });
  return { labels: all, split: { texts: rows.map((r) => r.text), targets } };
}

const HEADS: Array<{ name: string; request: TrainingRequestInput }> = [
  { name: 'logistic_regression', request: { head: 'logistic_regression' } },
  { name: 'mlp', request: { head: 'mlp' } },
];

export async function multiLabelRows(
  encoder: Encoder,
  spec: FeatureSpec,
  threads: number,
  tmp: string,
  log: (m: string) => void,
): Promise<{ headers: string[]; rows: string[][]; misses: string[] }> {
  const { labels, split: train } = loadSets('goemotions.train.jsonl', null);
  const { split: dev } = loadSets('goemotions.dev.jsonl', labels);
  const k = labels.length;
  log(`goemotions: encoding ${train.texts.length} + ${dev.texts.length} texts`);
  const started = performance.now();
  const xTrain = (await encoder.encode(train.texts, [spec], { lane: 'bulk' })).features[0]!;
  const xDev = (await encoder.encode(dev.texts, [spec], { lane: 'bulk' })).features[0]!;
  const encodeS = (performance.now() - started) / 1000;
  const dim = xTrain.length / train.texts.length;
  const prefix = `${tmp}/goemotions`;
  writeFileSync(`${prefix}.train.f32`, xTrain);
  writeFileSync(`${prefix}.test.f32`, xDev);
  writeFileSync(`${prefix}.train.u8`, train.targets);
  writeFileSync(`${prefix}.test.u8`, dev.targets);
  writeFileSync(`${prefix}.json`, JSON.stringify({ dim, labels: k }));
  log('goemotions: scikit-learn OneVsRestClassifier(LogisticRegression(C=1))');
  const single = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const ref = JSON.parse(execFileSync('/usr/bin/python3', ['bench/lib/sklearn-multilabel.py', prefix], { encoding: 'utf8', env: single })) as {
    fit_s: number;
    micro_f1: number;
    macro_f1: number;
    subset_accuracy: number;
    hamming_loss: number;
  };
  const f = (x: number) => fmt(x, 3);
  const rows: string[][] = [
    [
      'scikit-learn OvR LogisticRegression C=1 (reference)',
      '0.5',
      f(ref.micro_f1),
      f(ref.macro_f1),
      f(ref.subset_accuracy),
      fmt(ref.hamming_loss, 4),
      '-',
      fmt(ref.fit_s),
      `encoder ${fmt((train.texts.length + dev.texts.length) / encodeS, 0)} texts/s`,
    ],
  ];
  const misses: string[] = [];
  const n = train.texts.length;
  const x = new Float32Array(new SharedArrayBuffer(xTrain.byteLength));
  x.set(xTrain);
  const targets = new Uint8Array(new SharedArrayBuffer(train.targets.byteLength));
  targets.set(train.targets);
  const y = rarestLabel(targets, n, k);
  const devRows = Int32Array.from({ length: dev.texts.length }, (_, i) => i);
  for (const head of HEADS) {
    log(`goemotions: ${head.name}`);
    const request = normalizeRequest(trainingRequestSchema.parse({ ...head.request, seed: 0 }), 'multi_label');
    const t0 = performance.now();
    const result = await runPipeline(
      { request, labels, y, targets, n, candidates: [{ spec, dim, x }], threads, cancel: new Int32Array(new SharedArrayBuffer(4)) },
      () => undefined,
    );
    const pipelineS = (performance.now() - t0) / 1000;
    const fitS = (result.timings.find((t) => t.phase === 'fit')?.ms ?? NaN) / 1000;
    const predictor = loadPredictor(result.artifact);
    const proba = predictor.predictProba(xDev, dev.texts.length);
    for (const [rule, thresholds] of [
      ['per label, by CV', predictor.thresholds!],
      ['0.5', new Float32Array(k).fill(DEFAULT_THRESHOLD)],
    ] as const) {
      const s = multiLabelScores(dev.targets, applyThresholds(proba, dev.texts.length, thresholds), labels, devRows, thresholds);
      const notes: string[] = [];
      if (rule === 'per label, by CV' && head.name === 'logistic_regression') {
        for (const [metric, ours, theirs] of [
          ['micro-F1', s.micro_f1, ref.micro_f1],
          ['macro-F1', s.macro_f1, ref.macro_f1],
        ] as const) {
          const what = `${metric} ${f(ours)} vs ${f(theirs)} (≥)`;
          notes.push(ours >= theirs ? what : `MISSED ${what}`);
          if (ours < theirs) misses.push(`goemotions ${what}`);
        }
      }
      rows.push([head.name, rule, f(s.micro_f1), f(s.macro_f1), f(s.subset_accuracy), fmt(s.hamming_loss, 4), fmt(pipelineS), fmt(fitS), notes.join('; ')]);
    }
  }
  return {
    headers: ['GoEmotions (train → dev)', 'thresholds', 'micro-F1', 'macro-F1', 'subset acc', 'Hamming loss', 'pipeline s', 'final fit s', 'notes'],
    rows,
    misses,
  };
}
