/**
 * Cross-validation without artifacts: held-out rows are walked through the
 * freshly grown flat trees, and the per-tree leaf labels are tallied as the
 * forest predictor tallies them, so a fold's predictions equal those of the
 * stored model without building, serialising and reloading its JSON.
 */
import type { FlatTree } from './cart.js';

/** The leaf label (first most frequent class) of each node; −1 at split nodes. */
function nodeLabels(tree: FlatTree): Int32Array {
  const labels = new Int32Array(tree.feature.length).fill(-1);
  for (let node = 0; node < labels.length; node++) {
    if (tree.feature[node]! >= 0) continue;
    let best = -1;
    // Counts are stored in ascending class order, so ties keep the lower class, as the predictor does.
    for (let e = tree.countStart[node]!; e < tree.countStart[node + 1]!; e++) {
      if (best < 0 || tree.count[e]! > tree.count[best]!) best = e;
    }
    labels[node] = tree.countClass[best]!;
  }
  return labels;
}

/** trees.length × rows.length: the leaf label each tree gives each row of x (row-major, dim features). */
export function leafLabels(trees: FlatTree[], x: Float32Array, dim: number, rows: Int32Array): Int32Array {
  const out = new Int32Array(trees.length * rows.length);
  trees.forEach((tree, t) => {
    const labels = nodeLabels(tree);
    const { feature, threshold, left, right } = tree;
    for (let r = 0; r < rows.length; r++) {
      const offset = rows[r]! * dim;
      let node = 0;
      while (feature[node]! >= 0) node = x[offset + feature[node]!]! < threshold[node]! ? left[node]! : right[node]!;
      out[t * rows.length + r] = labels[node]!;
    }
  });
  return out;
}

/**
 * The forest's label per row from leaf labels (trees × n, trees in forest
 * order): the most voted class, a tie going to the class that reached the
 * winning count first in tree order, as ForestPredictor.predictLabels.
 */
export function voteLeafLabels(leaves: Int32Array, trees: number, n: number, classes: number): Int32Array {
  const votes = new Int32Array(classes);
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    votes.fill(0);
    let top = 0;
    for (let t = 0; t < trees; t++) {
      const label = leaves[t * n + r]!;
      const count = ++votes[label]!;
      if (count > top) {
        top = count;
        out[r] = label;
      }
    }
  }
  return out;
}
