/**
 * `npm run bench:embed -- --fusions-only`
 *
 * Raw onnxruntime throughput of the graph an import writes ("before") and of
 * the same graph with a fusion onnxruntime's optimizer does not make itself
 * ("after": EmbedLayerNormalization, measured and not kept; the optimizer
 * already makes SkipLayerNormalization and BiasGelu), both built in this
 * process from the bundled checkpoint, so that both are measured in one run.
 * Every batch is run by each variant in turn (drift on a shared machine moves
 * them alike); tokens/s and the after/before ratio are medians over the
 * passes. Batches are length-sorted, of 32 (the raw baseline of the main
 * table) and of 5 and 1 (the single-text path).
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { GraphOptions } from '../../src/encoder/import/bert-graph.js';
import { encoderFeeds } from '../../src/encoder/feeds.js';
import { bundledCheckpointDir } from '../../src/encoder/import/bundled.js';
import { checkpointGraph } from '../../src/encoder/import/importer.js';
import { DT, GraphBuilder } from '../../src/onnx/graph.js';
import { ENCODER_SETS, loadJsonl, shuffled } from './datasets.js';
import { fmt, median, printTable } from './stats.js';

const MAX_TOKENS = 256;
const FIRST = 'hidden_states.0';
const LAST = 'hidden_states.6';
const REPS = 5;
/** Texts per pass: fewer for small batches, whose throughput is lower, so that a pass takes seconds, not minutes. */
const BATCHES: Array<{ size: number; texts: number }> = [
  { size: 32, texts: 320 },
  { size: 5, texts: 100 },
  { size: 1, texts: 50 },
];

interface Variant {
  weights: 'fp32' | 'int8';
  fused: boolean;
  options: GraphOptions;
  /** `embeddings`: the graph cut at hidden state 0, to time the fused op against what it replaces, apart from the layers' noise. */
  part: 'whole graph' | 'embeddings';
}

/** The graph an import writes beside the same with its embeddings fused, for each weight type the importer writes. */
const VARIANTS: Variant[] = [
  { weights: 'fp32', fused: false, part: 'whole graph', options: { attention: 'fused', embeddings: 'standard' } },
  { weights: 'fp32', fused: true, part: 'whole graph', options: { attention: 'fused', embeddings: 'fused' } },
  { weights: 'int8', fused: false, part: 'whole graph', options: { attention: 'multi-head', int8: true, embeddings: 'standard' } },
  { weights: 'int8', fused: true, part: 'whole graph', options: { attention: 'multi-head', int8: true, embeddings: 'fused' } },
  { weights: 'fp32', fused: false, part: 'embeddings', options: { attention: 'fused', embeddings: 'standard' } },
  { weights: 'fp32', fused: true, part: 'embeddings', options: { attention: 'fused', embeddings: 'fused' } },
];
const PARTS = [
  { part: 'whole graph', weights: 'fp32' },
  { part: 'whole graph', weights: 'int8' },
  { part: 'embeddings', weights: 'fp32' },
] as const;

/** The graph of `v`, cut at hidden state 0 when only the embeddings are timed. */
function graphOf(checkpoint: string, v: Variant): Uint8Array {
  const { bytes } = checkpointGraph(checkpoint, v.options);
  if (v.part === 'whole graph') return bytes;
  const g = GraphBuilder.extend(onnxProto.onnx.ModelProto.decode(bytes), 'cut/');
  g.clearOutputs();
  g.output(FIRST, FIRST, DT.FLOAT, ['batch_size', 'sequence_length', 384]);
  g.prune();
  return g.encode('bench');
}

type Encode = (text: string) => number[];

/** Token ids as the service truncates them: [CLS] … [SEP], at most MAX_TOKENS. */
function sequences(texts: string[], encode: Encode): number[][] {
  return texts.map((t) => {
    const ids = encode(t);
    return ids.length > MAX_TOKENS ? [...ids.slice(0, MAX_TOKENS - 1), ids[ids.length - 1]!] : ids;
  });
}

/** Length-sorted batches of `size`, as feeds built beforehand (only the runs are timed), and their token count. */
function sortedBatches(seqs: number[][], size: number): { batches: Array<Record<string, ort.Tensor>>; tokens: number } {
  const sorted = [...seqs].sort((a, b) => a.length - b.length);
  const batches: Array<Record<string, ort.Tensor>> = [];
  for (let i = 0; i < sorted.length; i += size) batches.push(encoderFeeds(sorted.slice(i, i + size)).feeds);
  return { batches, tokens: sorted.reduce((n, s) => n + s.length, 0) };
}

interface Timed {
  session: ort.InferenceSession;
  /** The output asked for: the last hidden state, or hidden state 0 of a cut graph. */
  fetch: string;
}

/**
 * One pass over the batches, each batch run by every session in turn (the order
 * rotating from batch to batch), so that a slowdown of the shared machine lands on
 * all of them alike; returns each session's tokens/s over the pass.
 */
async function interleavedPass(sessions: Timed[], batches: Array<Record<string, ort.Tensor>>, tokens: number): Promise<number[]> {
  const ms = sessions.map(() => 0);
  for (const [i, f] of batches.entries()) {
    for (let k = 0; k < sessions.length; k++) {
      const which = (i + k) % sessions.length;
      const start = performance.now();
      const { session, fetch } = sessions[which]!;
      await session.run(f, [fetch]);
      ms[which]! += performance.now() - start;
    }
  }
  return ms.map((t) => tokens / (t / 1000));
}

export async function fusionsTable(threads: number, encode: Encode): Promise<void> {
  const checkpoint = bundledCheckpointDir();
  const sessions: Timed[] = [];
  for (const v of VARIANTS) {
    const options = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;
    sessions.push({ session: await ort.InferenceSession.create(graphOf(checkpoint, v), options), fetch: v.part === 'whole graph' ? LAST : FIRST });
  }
  const rows: Array<Array<string | number>> = [];
  try {
    for (const [dataset, file] of ENCODER_SETS) {
      const seqs = sequences(shuffled(loadJsonl(file).map((e) => e.text)), encode);
      for (const size of BATCHES) {
        const texts = seqs.slice(0, size.texts);
        const { batches, tokens } = sortedBatches(texts, size.size);
        await interleavedPass(sessions, batches.slice(0, 4), tokens); // warm-up
        const runs: number[][] = VARIANTS.map(() => []);
        for (let r = 0; r < REPS; r++) for (const [i, tps] of (await interleavedPass(sessions, batches, tokens)).entries()) runs[i]!.push(tps);
        for (const { part, weights } of PARTS) {
          const at = (fused: boolean) => VARIANTS.findIndex((v) => v.part === part && v.weights === weights && v.fused === fused);
          const [before, after] = [median(runs[at(false)]!), median(runs[at(true)]!)];
          // The median of the per-pass ratios: each pass's before and after saw the same machine.
          const ratio = median(runs[at(true)]!.map((a, r) => a / runs[at(false)]![r]!));
          rows.push([dataset, part, weights, size.size, texts.length, fmt(before, 0), fmt(after, 0), fmt(ratio, 3)]);
        }
        process.stderr.write('.');
      }
    }
  } finally {
    for (const { session } of sessions) await session.release();
  }
  process.stderr.write('\n');
  console.log(
    `bench:embed --fusions-only — raw onnxruntime, ${threads} threads; before: the imported graph, after: its embeddings as EmbedLayerNormalization; ` +
      `tokens/s = median of ${REPS} passes, every batch run by each variant in turn; after/before = median of the passes' ratios`,
  );
  printTable(['dataset', 'graph', 'weights', 'batch', 'texts', 'before tokens/s', 'after tokens/s', 'after/before'], rows);
}
