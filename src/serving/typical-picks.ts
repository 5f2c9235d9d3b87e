/**
 * Which texts to label next while the head knows little: typical texts of
 * regions no example covers yet (TypiClust, Hacohen et al. 2022, "Active
 * learning on a budget"), leaning towards the head's least certain texts as
 * examples accumulate. With a handful of examples a label the head's
 * uncertainty is noise (nearly flat probabilities), and a pick by uncertainty
 * or spread alone takes outliers, which teach little.
 *
 * The candidates are clustered (spherical k-means, k-means++ start, seeded)
 * into as many clusters as there are examples and picks together (at most
 * MAX_CLUSTERS); an example covers the cluster whose centre is closest to it.
 * Clusters are visited in order of priority, one pick each,
 *
 *   (1 − w) · coverage + w · its highest uncertainty,
 *
 * coverage being mass / largest mass for a cluster no example covers, and
 * that / 2 / (1 + examples in it) for one they do, a cluster's mass its size
 * times its members' mean cosine to its centre (so, at w = 0, the largest
 * uncovered clusters first, as in TypiClust, but a loose cluster of odd texts
 * after a tight one an example already covers), and in each the text
 * with the highest (1 − w) · typicality + w · uncertainty is picked, typicality
 * being the inverse of the mean distance to its nearest neighbours in the
 * cluster, scaled to [0, 1] within the cluster. Pure; deterministic for a seed.
 */
import { crossProducts, gramMatrix } from '../heads/linalg/gram.js';
import { Rng } from '../heads/rng.js';
import { type Suggestion, type SuggestionInput, uncertainty } from './suggestions.js';

export interface TypicalInput extends SuggestionInput {
  /** m × dim features of the task's labelled examples (same spec as `features`). */
  labelled: Float32Array;
  m: number;
  /** How much the head's uncertainty counts, in [0, 1]: 0 typicality and coverage alone, 1 uncertainty alone. */
  uncertaintyWeight: number;
  seed: number;
}

export interface TypicalPick extends Suggestion {
  /** The text's typicality within its cluster, in [0, 1] (1: the most typical). */
  typicality: number;
  /** Candidates in its cluster. */
  clusterSize: number;
}

/** Neighbours a text's typicality is measured against (TypiClust's 20). */
const NEIGHBOURS = 20;
/** Lloyd iterations at most: the assignment settles within a few on text features, and each costs n × clusters × dim (one ORT Gemm). */
const MAX_ITERATIONS = 12;
/** How many times more an uncovered cluster counts than one an example covers. */
const UNCOVERED = 2;
/** Share of the texts that may still change cluster when the clustering stops. */
const SETTLED = 0.01;
/** Clusters at most: bounds the cost (n × clusters × dim an iteration) when the task has many examples. */
export const MAX_CLUSTERS = 400;

/** Rows scaled to unit length (a zero row stays zero). */
function unitRows(x: Float32Array, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i * dim + j]! ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[i * dim + j] = x[i * dim + j]! * inv;
  }
  return out;
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  // Four running sums: the loop is most of the clustering's time, and independent sums pipeline.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const ai = i * dim;
  const bj = j * dim;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += a[ai + d]! * b[bj + d]!;
    s1 += a[ai + d + 1]! * b[bj + d + 1]!;
    s2 += a[ai + d + 2]! * b[bj + d + 2]!;
    s3 += a[ai + d + 3]! * b[bj + d + 3]!;
  }
  for (; d < dim; d++) s0 += a[ai + d]! * b[bj + d]!;
  return s0 + s1 + s2 + s3;
}

/** Offset of the largest of row[from .. from + k), less from. */
function argmax(row: Float32Array, from: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (row[from + c]! > row[from + best]!) best = c;
  return best;
}

/**
 * Spherical k-means of the unit rows `u` (n × dim) into `clusters`: each row's
 * cluster. k-means++ start from `seed`.
 */
export function kMeans(u: Float32Array, n: number, dim: number, clusters: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const centres = new Float32Array(clusters * dim);
  // k-means++: each next centre drawn with probability ∝ squared distance to the closest centre so far (2 − 2 cos on unit rows).
  const d2 = new Float64Array(n).fill(Infinity);
  let pick = rng.below(n);
  for (let c = 0; c < clusters; c++) {
    centres.set(u.subarray(pick * dim, (pick + 1) * dim), c * dim);
    if (c === clusters - 1) break;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.max(0, 2 - 2 * dot(u, i, centres, c, dim));
      if (d < d2[i]!) d2[i] = d;
      total += d2[i]!;
    }
    if (total <= 0) {
      pick = rng.below(n);
      continue;
    }
    let r = (rng.nextU32() / 4294967296) * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= d2[i]!;
      if (r < 0) {
        pick = i;
        break;
      }
    }
  }
  const assign = new Int32Array(n).fill(-1);
  const sims = new Float32Array(n * clusters);
  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    let changed = 0;
    crossProducts(u, n, centres, clusters, dim, { out: sims, threads: 1 });
    for (let i = 0; i < n; i++) {
      const c = argmax(sims, i * clusters, clusters);
      if (c !== assign[i]) {
        assign[i] = c;
        changed++;
      }
    }
    // Settled enough: a few texts still changing cluster do not change which clusters are large.
    if (changed <= n * SETTLED) break;
    const sums = new Float64Array(clusters * dim);
    const counts = new Int32Array(clusters);
    for (let i = 0; i < n; i++) {
      const c = assign[i]!;
      counts[c]!++;
      for (let d = 0; d < dim; d++) sums[c * dim + d]! += u[i * dim + d]!;
    }
    for (let c = 0; c < clusters; c++) {
      // An emptied cluster keeps its centre.
      if (counts[c] === 0) continue;
      let s = 0;
      for (let d = 0; d < dim; d++) s += sums[c * dim + d]! ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let d = 0; d < dim; d++) centres[c * dim + d] = sums[c * dim + d]! * inv;
    }
  }
  return assign;
}

/** Typicality of each member of a cluster: 1 / mean distance to its nearest neighbours in it (0 for a lone text). */
function typicalities(u: Float32Array, members: number[], dim: number): Float64Array {
  const s = members.length;
  const out = new Float64Array(s);
  if (s < 2) return out;
  const kn = Math.min(NEIGHBOURS, s - 1);
  const rows = new Float32Array(s * dim);
  members.forEach((i, a) => {
    rows.set(u.subarray(i * dim, (i + 1) * dim), a * dim);
  });
  const gram = gramMatrix(rows, s, dim, { threads: 1 });
  const dist = new Float64Array(s - 1);
  for (let a = 0; a < s; a++) {
    let k = 0;
    for (let b = 0; b < s; b++) if (b !== a) dist[k++] = Math.sqrt(Math.max(0, 2 - 2 * gram[a * s + b]!));
    dist.sort();
    let sum = 0;
    for (let j = 0; j < kn; j++) sum += dist[j]!;
    out[a] = 1 / (sum / kn + 1e-6);
  }
  return out;
}

/** The `count` rows to label next, in the order chosen. */
export function suggestTypical(input: TypicalInput, count: number): TypicalPick[] {
  const { n, dim, m } = input;
  const w = Math.min(1, Math.max(0, input.uncertaintyWeight));
  const picks = Math.min(count, n);
  if (picks <= 0) return [];
  const u = unitRows(input.features, n, dim);
  const lab = unitRows(input.labelled, m, dim);
  const unsure = Float64Array.from({ length: n }, (_, i) => uncertainty(input, i));
  const clusters = Math.min(n, Math.max(picks, Math.min(m + picks, MAX_CLUSTERS)));
  const assign = kMeans(u, n, dim, clusters, input.seed);
  const members = Array.from({ length: clusters }, () => [] as number[]);
  for (let i = 0; i < n; i++) members[assign[i]!]!.push(i);
  // Centres of the final assignment, to say which cluster each example covers.
  const centres = new Float32Array(clusters * dim);
  for (const [c, rows] of members.entries()) {
    for (const i of rows) for (let d = 0; d < dim; d++) centres[c * dim + d]! += u[i * dim + d]!;
  }
  centres.set(unitRows(centres, clusters, dim));
  const covered = new Int32Array(clusters);
  if (m > 0) {
    const toCentres = crossProducts(lab, m, centres, clusters, dim, { threads: 1 });
    for (let j = 0; j < m; j++) covered[argmax(toCentres, j * clusters, clusters)]!++;
  }

  // A cluster's mass: its size times how tightly it holds together (mean cosine to its centre), so a loose
  // cluster of odd texts, lumped together for being far from everything, does not count as a large one.
  const mass = members.map((rows, c) => {
    let s = 0;
    for (const i of rows) s += Math.max(0, dot(u, i, centres, c, dim));
    return s;
  });
  const largest = Math.max(...mass) || 1;
  const order = members
    .map((rows, c) => {
      let most = 0;
      for (const i of rows) most = Math.max(most, unsure[i]!);
      const share = mass[c]! / largest;
      const coverage = covered[c] ? share / (1 + covered[c]!) / UNCOVERED : share;
      return { c, priority: (1 - w) * coverage + w * most };
    })
    .filter((o) => members[o.c]!.length > 0)
    .sort((a, b) => b.priority - a.priority || a.c - b.c);

  const typicality = new Float64Array(n);
  for (const rows of members) {
    if (!rows.length) continue;
    const t = typicalities(u, rows, dim);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of t) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    rows.forEach((i, a) => {
      typicality[i] = hi > lo ? (t[a]! - lo) / (hi - lo) : rows.length > 1 ? 1 : 0;
    });
  }

  const chosen = new Uint8Array(n);
  const out: TypicalPick[] = [];
  // One pick a cluster in order of priority; a second pass (and more) only when there are fewer clusters than picks.
  while (out.length < picks) {
    for (const { c } of order) {
      if (out.length >= picks) break;
      let best = -1;
      let bestScore = -Infinity;
      for (const i of members[c]!) {
        if (chosen[i]) continue;
        const score = (1 - w) * typicality[i]! + w * unsure[i]!;
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      }
      if (best < 0) continue;
      let similarity = 0;
      for (const p of out) similarity = Math.max(similarity, dot(u, best, u, p.index, dim));
      chosen[best] = 1;
      out.push({
        index: best,
        uncertainty: unsure[best]!,
        similarity: out.length ? similarity : 0,
        typicality: typicality[best]!,
        clusterSize: members[c]!.length,
      });
    }
  }
  return out;
}

/**
 * How much the head's uncertainty counts once the task has `perLabel`
 * examples a label (the median over its labels): little at first, most
 * once the head has seen enough of each label for its probabilities to mean
 * something.
 */
export function uncertaintyWeightFor(perLabel: number, halfAt: number): number {
  return perLabel <= 0 ? 0 : perLabel / (perLabel + halfAt);
}
