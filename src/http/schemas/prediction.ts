/** Predictions as the API returns them: from the predict routes and with suggestions. */
import { z } from 'zod';
import { argmaxRows } from '../../heads/evaluation.js';
import type { VersionRecord } from '../../store/types.js';

const singleLabelPrediction = z
  .object({
    index: z.number().int(),
    label: z.string(),
    score: z.number().describe('Probability of the label.'),
    probabilities: z.record(z.string(), z.number()).describe('Every label (or the top_k), summing to 1 over all labels.'),
  })
  .strict();
const multiLabelPrediction = z
  .object({
    index: z.number().int(),
    labels: z.array(z.string()).describe('The predicted set: every label whose probability reaches its threshold (may be empty), most probable first.'),
    probabilities: z.record(z.string(), z.number()).describe("Each label's own probability (or the top_k's)."),
  })
  .strict();
export const prediction = z.union([singleLabelPrediction, multiLabelPrediction]).describe('Single-label tasks: label and score; multi-label tasks: labels.');
export const kind = z.enum(['single_label', 'multi_label']);
export const usage = z.object({
  prompt_tokens: z.number().int(),
  encoded_texts: z.number().int().describe('Texts the encoder ran on (the others were cached).'),
});

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** A multi-label version's thresholds, from its metrics (the pipeline stores the artifact's thresholds there too). */
export function thresholdsOf(version: VersionRecord): number[] | undefined {
  const metrics = version.metrics as { kind?: string; per_label?: Array<{ threshold: number }> };
  return metrics.kind === 'multi_label' ? metrics.per_label?.map((l) => l.threshold) : undefined;
}

export function predictionsJson(probabilities: Float32Array, version: VersionRecord, n: number, topK?: number): Array<z.infer<typeof prediction>> {
  const { labels } = version;
  const k = labels.length;
  const thresholds = thresholdsOf(version);
  const best = argmaxRows(probabilities, n, k);
  const order = Array.from({ length: k }, (_, c) => c);
  return Array.from({ length: n }, (_, i) => {
    const row = probabilities.subarray(i * k, (i + 1) * k);
    const byProbability = [...order].sort((a, b) => row[b]! - row[a]!);
    const shown = topK === undefined || topK >= k ? order : byProbability.slice(0, topK);
    // Labels are the client's strings: on a plain object, "__proto__" would set the prototype and vanish from the JSON.
    const probs: Record<string, number> = Object.create(null);
    for (const c of shown) probs[labels[c]!] = round(row[c]!);
    if (thresholds) return { index: i, labels: byProbability.filter((c) => row[c]! >= thresholds[c]!).map((c) => labels[c]!), probabilities: probs };
    return { index: i, label: labels[best[i]!]!, score: round(row[best[i]!]!), probabilities: probs };
  });
}
