/**
 * The JSON shape of ml-random-forest 2.1's `RandomForestClassifier#toJSON()`
 * (with ml-cart 2.1's trees), and the conversion of our flat trees into it.
 *
 * What ml-random-forest's `load` + `predict` rely on:
 * - tree i sees the columns `indexes[i]` of each row; `splitColumn` indexes
 *   into that subset. Our trees sample features per node instead, so every
 *   tree's subset is all features in order (`maxFeatures: 1`, `n: dim`).
 * - a node with `distribution` is a leaf; any other node must have
 *   `splitValue`, `splitColumn`, `left` and `right`, and sends a row left
 *   when row[splitColumn] < splitValue.
 * - a leaf's label is the first index of the largest entry of its
 *   distribution (a 1 × k row); the forest's label is the mode of the tree
 *   labels, ties going to the label that reached the winning count first in
 *   tree order (ml-array-mode).
 *
 * Leaves carry only `distribution` and splits only the fields above plus
 * `gain` and `numberSamples` (read by featureImportance): the per-node copies
 * of the tree options that ml-cart also writes are never read back, so
 * they are left out to keep the artifact small.
 */
import type { FlatTree } from './cart.js';
import type { ResolvedForestParams } from './params.js';

export interface SplitNodeJSON {
  splitValue: number;
  splitColumn: number;
  gain: number;
  numberSamples: number;
  left: TreeNodeJSON;
  right: TreeNodeJSON;
}

export interface LeafNodeJSON {
  /** Class shares at the leaf as a 1 × k matrix, k = largest class present + 1 (as ml-cart writes it). */
  distribution: number[][];
}

export type TreeNodeJSON = SplitNodeJSON | LeafNodeJSON;

/** ml-cart's DecisionTreeClassifier options (unlimited depth is written as an absent maxDepth). */
export interface TreeOptionsJSON {
  gainFunction: 'gini';
  splitFunction: 'mean';
  /** Nodes with at most this many rows are leaves: minSamplesSplit − 1. */
  minNumSamples: number;
  maxDepth?: number;
  gainThreshold: number;
}

export interface DecisionTreeClassifierJSON {
  options: TreeOptionsJSON & { kind: 'classifier' };
  root: TreeNodeJSON;
  name: 'DTClassifier';
}

export interface RandomForestClassifierJSON {
  baseModel: {
    indexes: number[][];
    n: number;
    replacement: boolean;
    maxFeatures: number;
    nEstimators: number;
    treeOptions: TreeOptionsJSON;
    isClassifier: true;
    seed: number;
    estimators: DecisionTreeClassifierJSON[];
    useSampleBagging: boolean;
  };
  name: 'RFClassifier';
}

/**
 * The stored head. `classes` is kept beside the model because leaf
 * distributions stop at the largest class present, so a class never seen in
 * training could not be recovered from the model alone.
 */
export interface ForestArtifact {
  format: 'ml-random-forest';
  classes: number;
  /** Resolved training parameters, for the record; prediction does not read them. */
  params: StoredForestParams;
  model: RandomForestClassifierJSON;
}

/** ResolvedForestParams in JSON: an unlimited maxDepth is null. */
export type StoredForestParams = Omit<ResolvedForestParams, 'maxDepth'> & { maxDepth: number | null };

export function isLeaf(node: TreeNodeJSON): node is LeafNodeJSON {
  return (node as LeafNodeJSON).distribution !== undefined;
}

export function treeOptions(params: ResolvedForestParams): TreeOptionsJSON {
  return {
    gainFunction: 'gini',
    splitFunction: 'mean',
    minNumSamples: params.minSamplesSplit - 1,
    ...(params.maxDepth === Infinity ? {} : { maxDepth: params.maxDepth }),
    gainThreshold: 0,
  };
}

export function toTreeJSON(tree: FlatTree, options: TreeOptionsJSON): DecisionTreeClassifierJSON {
  return { options: { ...options, kind: 'classifier' }, root: nodeJSON(tree, 0), name: 'DTClassifier' };
}

function nodeJSON(tree: FlatTree, node: number): TreeNodeJSON {
  if (tree.feature[node]! < 0) return { distribution: [leafDistribution(tree, node)] };
  return {
    splitValue: tree.threshold[node]!,
    splitColumn: tree.feature[node]!,
    gain: tree.gain[node]!,
    numberSamples: tree.weight[node]!,
    left: nodeJSON(tree, tree.left[node]!),
    right: nodeJSON(tree, tree.right[node]!),
  };
}

function leafDistribution(tree: FlatTree, node: number): number[] {
  const from = tree.countStart[node]!;
  const to = tree.countStart[node + 1]!;
  // Counts are stored in class order, so the last entry is the largest class present.
  const shares = new Array<number>(tree.countClass[to - 1]! + 1).fill(0);
  for (let e = from; e < to; e++) shares[tree.countClass[e]!] = tree.count[e]! / tree.weight[node]!;
  return shares;
}
