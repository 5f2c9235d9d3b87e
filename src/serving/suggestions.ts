/**
 * Which unlabelled texts to label next (active learning). A text teaches the
 * head most where the head is least sure of it; but the k least sure texts
 * are often near-duplicates of each other (one confusing phrasing, many
 * times), and labelling one of them teaches most of what labelling all would.
 * So the k are chosen greedily, each maximising
 *
 *   (1 − diversity) · uncertainty + diversity · (1 − similarity to the closest text already chosen)
 *
 * (maximal marginal relevance, Carbonell & Goldstein 1998), with similarity
 * the cosine of the texts' features under the head's own spec. Uncertainty:
 * 1 − (p₁ − p₂), the margin between the two most probable labels (Scheffer et
 * al., 2001); for a multi-label head, the label whose probability lies
 * closest to its threshold decides. Pure.
 */

export interface SuggestionInput {
  /** n × k probabilities. */
  probabilities: Float32Array;
  /** n × dim features. */
  features: Float32Array;
  n: number;
  k: number;
  dim: number;
  /** Multi-label heads: each label's threshold. */
  thresholds?: readonly number[];
}

/** How unsure the head is of row i, in [0, 1]: 1 is a coin toss. */
export function uncertainty(input: SuggestionInput, i: number): number {
  const { probabilities: p, k, thresholds } = input;
  const row = p.subarray(i * k, (i + 1) * k);
  if (thresholds) {
    let most = 0;
    for (let c = 0; c < k; c++) {
      const t = thresholds[c]!;
      most = Math.max(most, 1 - Math.abs(row[c]! - t) / Math.max(t, 1 - t));
    }
    return most;
  }
  let first = 0;
  let second = 0;
  for (const v of row) {
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) second = v;
  }
  return 1 - (first - second);
}

export interface Suggestion {
  /** Row of the input. */
  index: number;
  uncertainty: number;
  /** Cosine similarity to the closest text chosen before it (0 for the first). */
  similarity: number;
}

/**
 * The `count` rows to label next, in the order chosen. `after`: rows chosen
 * already (another way), never chosen again and kept apart from like the
 * rows chosen here.
 */
export function suggest(input: SuggestionInput, count: number, diversity: number, after: readonly number[] = []): Suggestion[] {
  const { n, dim, features } = input;
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += features[i * dim + j]! ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  const unsure = Float64Array.from({ length: n }, (_, i) => uncertainty(input, i));
  /** Each row's highest similarity to a chosen row so far. */
  const closest = new Float64Array(n);
  const chosen = new Uint8Array(n);
  const out: Suggestion[] = [];
  const keepApart = (best: number) => {
    for (let i = 0; i < n; i++) {
      if (chosen[i]) continue;
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += features[i * dim + j]! * features[best * dim + j]!;
      const sim = dot / (norms[i]! * norms[best]!);
      if (sim > closest[i]!) closest[i] = sim;
    }
  };
  for (const a of after) {
    chosen[a] = 1;
    keepApart(a);
  }
  for (let pick = 0; pick < Math.min(count, n - after.length); pick++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < n; i++) {
      if (chosen[i]) continue;
      const score = (1 - diversity) * unsure[i]! + diversity * (1 - Math.max(0, closest[i]!));
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    chosen[best] = 1;
    out.push({ index: best, uncertainty: unsure[best]!, similarity: pick === 0 && !after.length ? 0 : closest[best]! });
    keepApart(best);
  }
  return out;
}
