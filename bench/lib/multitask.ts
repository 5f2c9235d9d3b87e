/**
 * bench:heads' multi-task part: Banking77, TREC and SST-2 trained together
 * (./../../src/training/multitask.ts: shared hidden layers, an output layer
 * each) against the same MLP trained on each alone, on the same folds for
 * the cross-validated scores and on each set's test split for the rest. The
 * question is whether sharing helps; the table says where it does and where
 * it does not.
 */
import type { Encoder } from '../../src/encoder/encoder.js';
import type { FeatureSpec } from '../../src/encoder/feature-spec.js';
import { argmaxRows, scoreOf } from '../../src/heads/evaluation.js';
import { loadPredictor } from '../../src/heads/registry.js';
import { runMultitask } from '../../src/training/multitask.js';
import { runPipeline } from '../../src/training/pipeline.js';
import { normalizeRequest, trainingRequestSchema } from '../../src/training/request.js';
import { loadSplits } from './heads.js';
import { fmt } from './stats.js';

const DATASETS = ['banking77', 'trec', 'sst2'];

const sharedCopy = <T extends Float32Array | Int32Array>(a: T): T => {
  const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
};

export async function multitaskRows(encoder: Encoder, spec: FeatureSpec, threads: number, log: (m: string) => void) {
  const sets = [];
  for (const name of DATASETS) {
    const data = loadSplits(name);
    log(`multi-task: encoding ${name}`);
    const [train, test] = [
      (await encoder.encode(data.train.texts, [spec], { lane: 'bulk' })).features[0]!,
      (await encoder.encode(data.test.texts, [spec], { lane: 'bulk' })).features[0]!,
    ];
    sets.push({ name, data, train: sharedCopy(train), y: sharedCopy(data.train.y), test });
  }
  const dim = sets[0]!.train.length / sets[0]!.data.train.texts.length;
  const request = normalizeRequest(trainingRequestSchema.parse({ head: 'mlp', seed: 0 }));
  const cancel = () => new Int32Array(new SharedArrayBuffer(4));
  log(`multi-task: ${DATASETS.join(' + ')} together`);
  const started = performance.now();
  const joint = await runMultitask(
    {
      request: { ...request, tasks: DATASETS },
      tasks: sets.map((s) => ({ taskId: s.name, labels: s.data.labels, y: s.y, n: s.data.train.texts.length, spec, dim, x: s.train })),
      threads,
      cancel: cancel(),
    },
    () => undefined,
  );
  const jointS = (performance.now() - started) / 1000;
  const rows: string[][] = [];
  for (const [i, s] of sets.entries()) {
    log(`multi-task: ${s.name} alone`);
    const alone = await runPipeline(
      { request, labels: s.data.labels, y: s.y, n: s.data.train.texts.length, candidates: [{ spec, dim, x: s.train }], threads, cancel: cancel() },
      () => undefined,
    );
    const n = s.data.test.texts.length;
    const testScore = (artifact: unknown) => {
      const predicted = argmaxRows(loadPredictor(artifact).predictProba(s.test, n), n, s.data.labels.length);
      return scoreOf(s.data.test.y, predicted, s.data.labels);
    };
    const together = testScore(joint.tasks[i]!.artifact);
    const solo = testScore(alone.artifact);
    const mt = joint.tasks[i]!.report.multitask as { joint: { accuracy: number; macro_f1: number }; alone: { accuracy: number; macro_f1: number } };
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    const gain = 100 * (together.accuracy - solo.accuracy);
    rows.push([
      s.name,
      `${pct(mt.joint.accuracy)} / ${fmt(mt.joint.macro_f1, 3)}`,
      `${pct(mt.alone.accuracy)} / ${fmt(mt.alone.macro_f1, 3)}`,
      pct(together.accuracy),
      pct(solo.accuracy),
      `${gain >= 0 ? '+' : ''}${fmt(gain, 2)}`,
      i === 0 ? fmt(jointS) : '',
      fmt(alone.timings.reduce((a, t) => a + t.ms, 0) / 1000),
    ]);
  }
  return {
    headers: [
      'task (trained together)',
      'CV acc / macro-F1, joint',
      'CV acc / macro-F1, alone',
      'test acc, joint',
      'test acc, alone',
      'test points, joint − alone',
      'joint job s (all tasks)',
      'alone pipeline s',
    ],
    rows,
  };
}
