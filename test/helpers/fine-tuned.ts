/**
 * A fine-tuned version for tests, made the way a job will make one (until
 * jobs fine-tune): the real fine-tuning (the top `layers` layers, 60 TREC
 * questions, one epoch), its version built by fineTunedParts and written
 * through the store's finishJob like any job's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadJsonl, shuffled } from '../../bench/lib/datasets.js';
import { DEFAULT_MODEL } from '../../src/config.js';
import { checkBertConfig } from '../../src/encoder/import/bert-graph.js';
import { hiddenStateName, readManifest } from '../../src/encoder/manifest.js';
import type { TunedStack } from '../../src/encoder/tuned-stack.js';
import { tunedStackGraph } from '../../src/encoder/tuned-stack-graph.js';
import { computeMetrics } from '../../src/heads/evaluation.js';
import { LogisticPredictor } from '../../src/heads/logistic/model.js';
import { tokenizerOf } from '../../src/training/fine-tune/tokens.js';
import type { NewVersion, Store } from '../../src/store/types.js';
import { type FineTuneResult, fineTune, resolveRecipe } from '../../src/training/fine-tune/index.js';
import { fineTunedParts } from '../../src/training/fine-tuned-version.js';

export interface FineTuned {
  result: FineTuneResult;
  /** The classes, sorted: the version's labels. */
  labels: string[];
  train: Array<{ text: string; label: string }>;
  /** Questions it was not trained on. */
  unseen: string[];
}

const runs = new Map<number, Promise<FineTuned>>();

/** The top `layers` layers and a classifier fine-tuned on 60 TREC questions (one run per layer count per test file). */
export function fineTunedTrec(layers = 2): Promise<FineTuned> {
  let run = runs.get(layers);
  if (!run) {
    run = (async () => {
      const dir = join('models', DEFAULT_MODEL);
      const all = shuffled(loadJsonl('trec.train.jsonl'), 3);
      const labels = [...new Set(all.map((e) => e.label))].sort();
      const train = all.slice(0, 60).map(({ text, label }) => ({ text, label }));
      const recipe = resolveRecipe({ layers, epochs: 1, batchSize: 8, learningRate: 3e-4, threads: 2 }, readManifest(dir)!);
      const result = await fineTune({
        modelDir: dir,
        texts: train.map((e) => e.text),
        labels: { classes: labels.length, y: Int32Array.from(train, (e) => labels.indexOf(e.label)) },
        recipe,
        rowTokens: 64,
      });
      return { result, labels, train, unseen: all.slice(60, 100).map((e) => e.text) };
    })();
    runs.set(layers, run);
  }
  return run;
}

/**
 * The features of `texts` under a tuned stack, computed apart from the service: each text alone through the
 * imported graph (hidden state `first`), then the stack built with plain attention operators, then the mean
 * over the tokens; and the classifier's probabilities of them (n × classes).
 */
export async function directlyTuned(run: FineTuneResult, texts: readonly string[]): Promise<{ features: Float32Array; probabilities: Float32Array }> {
  const dir = join('models', DEFAULT_MODEL);
  const manifest = readManifest(dir)!;
  const H = manifest.hiddenSize;
  const stack: TunedStack = run.stack;
  const dims = checkBertConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>);
  const base = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
  const tuned = await ort.InferenceSession.create(tunedStackGraph(stack, dims, 'standard'));
  const tokenize = await tokenizerOf(dir, manifest.maxTokens);
  const features = new Float32Array(texts.length * H);
  for (const [i, text] of texts.entries()) {
    const ids = tokenize(text);
    const dimsOf = [1, ids.length];
    const mask = new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), dimsOf);
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), dimsOf),
      attention_mask: mask,
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), dimsOf),
    };
    const state = (await base.run(feeds, [hiddenStateName(stack.first)]))[hiddenStateName(stack.first)]!;
    const out = (await tuned.run({ state, attention_mask: mask }, ['hidden'])).hidden!.data as Float32Array;
    for (let t = 0; t < ids.length; t++) for (let h = 0; h < H; h++) features[i * H + h]! += out[t * H + h]! / ids.length;
  }
  await base.release();
  await tuned.release();
  return { features, probabilities: new LogisticPredictor(run.classifier).predictProba(features, texts.length) };
}

/** The version a job would write for `tuned` (metrics on its own training rows: a test needs their shape, not their worth). */
export function fineTunedVersion(tuned: FineTuned): NewVersion {
  const y = Int32Array.from(tuned.train, (e) => tuned.labels.indexOf(e.label));
  return {
    ...fineTunedParts(tuned.result),
    params: { layers: tuned.result.stack.last - tuned.result.stack.first + 1, epochs: 1 },
    labels: tuned.labels,
    metrics: { ...computeMetrics(y, y, tuned.labels), method: 'holdout', holdout_fraction: 0.2 },
    report: {},
    exampleCount: tuned.train.length,
    trainingMs: Math.round(tuned.result.stats.totalSeconds * 1000),
  };
}

/** Writes `version` for the task as a job's end writes it (claimed, finished, activated if asked); returns its number. */
export async function writeVersion(store: Store, clientId: string, taskId: string, version: NewVersion, activate = true): Promise<number> {
  const owner = `test-${Math.random().toString(36).slice(2)}`;
  const job = await store.createJob({ clientId, taskId, request: { head: { type: version.headType } }, maxAttempts: 1 });
  let claimed = await store.claimJob(owner, 60_000);
  while (claimed && claimed.id !== job.id) claimed = await store.claimJob(owner, 60_000);
  const done = await store.finishJob(job.id, owner, { state: 'succeeded', version, activate });
  if (done?.state !== 'succeeded' || done.versionNumber === null) throw new Error(`the version was not written: ${JSON.stringify(done)}`);
  return done.versionNumber;
}
