/**
 * Scores rows with an ml-random-forest classifier model. The nested JSON
 * trees are flattened once into typed-array node tables covering the whole
 * forest; rows are then walked tree by tree over blocks of rows, so one
 * tree's table stays in cache while a block passes through it.
 */
import type { Predictor } from '../head.js';
import { isLeaf, type ForestArtifact, type RandomForestClassifierJSON, type TreeNodeJSON } from './model.js';

/** Rows per block: 256 rows × 384 float32 features ≈ 400 KB, about an L2 cache. */
const BLOCK_ROWS = 256;

export function loadForestPredictor(artifact: ForestArtifact): ForestPredictor {
  if (artifact.format !== 'ml-random-forest') throw new TypeError(`not a forest artifact: format ${artifact.format}`);
  return new ForestPredictor(artifact.model, artifact.classes);
}

/** Node tables of a whole forest, each tree's nodes contiguous in preorder; leaves have feature −1 and a label. */
export class NodeTables {
  feature: number[] = [];
  threshold: number[] = [];
  left: number[] = [];
  right: number[] = [];
  label: number[] = [];

  /** Appends a tree in preorder, mapping its columns back to input features; returns the root id. */
  addTree(node: TreeNodeJSON, columns: number[]): number {
    const id = this.feature.length;
    this.feature.push(-1);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.label.push(-1);
    if (isLeaf(node)) {
      this.label[id] = firstArgmax(node.distribution[0]!);
    } else {
      this.feature[id] = columns[node.splitColumn]!;
      this.threshold[id] = node.splitValue;
      this.left[id] = this.addTree(node.left, columns);
      this.right[id] = this.addTree(node.right, columns);
    }
    return id;
  }
}

export class ForestPredictor implements Predictor {
  readonly classes: number;
  readonly trees: number;
  /** Rows must have more features than this. */
  private readonly maxFeature: number;
  private readonly roots: Int32Array;
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly label: Int32Array;

  constructor(model: RandomForestClassifierJSON, classes: number) {
    if (model.name !== 'RFClassifier') throw new TypeError(`not an ml-random-forest classifier: ${model.name}`);
    const { estimators, indexes } = model.baseModel;
    const tables = new NodeTables();
    this.roots = Int32Array.from(estimators, (tree, i) => tables.addTree(tree.root, indexes[i]!));
    this.feature = Int32Array.from(tables.feature);
    this.threshold = Float64Array.from(tables.threshold);
    this.left = Int32Array.from(tables.left);
    this.right = Int32Array.from(tables.right);
    this.label = Int32Array.from(tables.label);
    this.classes = classes;
    this.trees = estimators.length;
    this.maxFeature = this.feature.reduce((a, b) => Math.max(a, b), -1);
    if (this.label.some((label) => label >= classes)) throw new RangeError(`model predicts classes beyond 0..${classes - 1}`);
  }

  /** Vote shares: the fraction of trees whose leaf picks each class. */
  predictProba(x: Float32Array, n: number): Float32Array {
    const { votes } = this.tally(x, n);
    const proba = new Float32Array(votes.length);
    for (let i = 0; i < votes.length; i++) proba[i] = votes[i]! / this.trees;
    return proba;
  }

  /**
   * The labels ml-random-forest's `predict` gives: the most voted class, a tie
   * going to the class that reached the winning count first in tree order.
   * Equal to the argmax of predictProba except on tied votes.
   */
  predictLabels(x: Float32Array, n: number): Int32Array {
    return this.tally(x, n).winner;
  }

  private tally(x: Float32Array, n: number): { votes: Int32Array; winner: Int32Array } {
    const dim = this.rowLength(x, n);
    const k = this.classes;
    const votes = new Int32Array(n * k);
    const winner = new Int32Array(n);
    const winnerVotes = new Int32Array(n);
    for (let first = 0; first < n; first += BLOCK_ROWS) {
      const last = Math.min(n, first + BLOCK_ROWS);
      for (let t = 0; t < this.trees; t++) {
        const root = this.roots[t]!;
        for (let row = first; row < last; row++) {
          const label = this.leafLabel(x, row * dim, root);
          const count = ++votes[row * k + label]!;
          if (count > winnerVotes[row]!) {
            winnerVotes[row] = count;
            winner[row] = label;
          }
        }
      }
    }
    return { votes, winner };
  }

  private leafLabel(x: Float32Array, offset: number, root: number): number {
    const { feature, threshold, left, right } = this;
    let node = root;
    while (feature[node]! >= 0) {
      node = x[offset + feature[node]!]! < threshold[node]! ? left[node]! : right[node]!;
    }
    return this.label[node]!;
  }

  private rowLength(x: Float32Array, n: number): number {
    const dim = n > 0 ? x.length / n : 0;
    if (n > 0 && !(Number.isInteger(dim) && dim > this.maxFeature)) {
      throw new RangeError(`expected ${n} rows of more than ${this.maxFeature} features, got ${x.length} values`);
    }
    return dim;
  }
}

/** ml-matrix's maxRowIndex: the first index of the largest entry. */
function firstArgmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
