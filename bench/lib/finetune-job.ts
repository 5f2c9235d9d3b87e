/**
 * One fine-tuning run of the service's code in a process of its own, so that
 * bench:finetune measures each run's peak RSS apart:
 *
 *     node dist/bench/lib/finetune-job.js ARGS_JSON
 *
 * ARGS_JSON: FineTuneInput's fields (labels as plain arrays) plus
 * "probabilities" (where the held-out probabilities go, float32) and
 * "result" (where the history and figures go, JSON).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fineTune, type FineTuneInput, type FineTuneLabels } from '../../src/training/fine-tune/index.js';

type Labels = { classes: number; y: number[] } | { classes: number; targets: number[] };

export interface JobArgs extends Omit<FineTuneInput, 'labels' | 'heldOut'> {
  labels: Labels;
  heldOut: { texts: string[]; labels: Labels };
  probabilities: string;
  result: string;
}

const labelsOf = (l: Labels): FineTuneLabels =>
  'y' in l ? { classes: l.classes, y: Int32Array.from(l.y) } : { classes: l.classes, targets: Uint8Array.from(l.targets) };

const args = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as JobArgs;
const result = await fineTune({ ...args, labels: labelsOf(args.labels), heldOut: { texts: args.heldOut.texts, labels: labelsOf(args.heldOut.labels) } });
writeFileSync(args.probabilities, result.heldOutProbabilities!);
writeFileSync(args.result, JSON.stringify({ history: result.history, stats: result.stats, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
