/**
 * A random forest head as ONNX: ai.onnx.ml's TreeEnsembleClassifier, built
 * so that it gives what the predictor (./predict.ts) gives: each tree votes
 * for the label of the leaf a row reaches, and a label's probability is its
 * share of the votes.
 *
 * - A split sends a row left when x < splitValue, with x a float32 feature
 *   and splitValue a float64. The operator compares with float32 thresholds,
 *   so each becomes the smallest float32 at or above it: for every float32 x,
 *   x < t ⇔ x < that float (BRANCH_LT, true branch = left).
 * - A leaf adds 1 to its label; the sums (exact integers) are divided by the
 *   number of trees.
 * - onnxruntime treats a two-class ensemble as binary (one score, its
 *   complement written for the other class), so the operator is declared
 *   with at least three classes and the extra columns, which no leaf votes
 *   for, are cut off.
 */
import type { OnnxHeadExport } from '../head.js';
import type { ForestArtifact } from './model.js';
import { NodeTables } from './predict.js';

const scratch = new Float32Array(1);
const bits = new Int32Array(scratch.buffer);

/** The smallest float32 ≥ x: for every float32 v, v < x ⇔ v < ceilFloat32(x). */
export function ceilFloat32(x: number): number {
  scratch[0] = x;
  const f = scratch[0];
  if (f >= x) return f;
  // Rounded down: the next float32 up is one unit of the bit pattern toward +∞.
  if (f === 0) bits[0] = 1;
  else bits[0]! += f > 0 ? 1 : -1;
  return scratch[0];
}

export const forestOnnx: OnnxHeadExport = (artifact, { graph: g, features, dim, classes, prefix }) => {
  const a = artifact as ForestArtifact;
  if (a.format !== 'ml-random-forest') throw new Error(`not a forest artifact: format ${String(a.format)}`);
  const { estimators, indexes } = a.model.baseModel;
  const tables = new NodeTables();
  const roots = estimators.map((tree, i) => tables.addTree(tree.root, indexes[i]!));
  const n = tables.feature.length;
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const leafTrees: number[] = [];
  const leafNodes: number[] = [];
  const leafLabels: number[] = [];
  for (let t = 0; t < roots.length; t++) {
    const root = roots[t]!;
    const end = roots[t + 1] ?? n;
    for (let node = root; node < end; node++) {
      const feature = tables.feature[node]!;
      treeIds.push(t);
      nodeIds.push(node - root);
      if (feature >= 0) {
        if (feature >= dim) throw new Error(`forest splits on feature ${feature} of ${dim}`);
        featureIds.push(feature);
        modes.push('BRANCH_LT');
        values.push(ceilFloat32(tables.threshold[node]!));
        trueIds.push(tables.left[node]! - root);
        falseIds.push(tables.right[node]! - root);
      } else {
        const label = tables.label[node]!;
        if (label >= classes) throw new Error(`forest votes for class ${label} of ${classes}`);
        featureIds.push(0);
        modes.push('LEAF');
        values.push(0);
        trueIds.push(0);
        falseIds.push(0);
        leafTrees.push(t);
        leafNodes.push(node - root);
        leafLabels.push(label);
      }
    }
  }
  const declared = Math.max(classes, 3);
  g.useDomain('ai.onnx.ml', 3);
  const [, votes] = g.nodeWithOutputs(
    'TreeEnsembleClassifier',
    [features],
    [`${prefix}label`, `${prefix}votes`],
    {
      nodes_treeids: treeIds,
      nodes_nodeids: nodeIds,
      nodes_featureids: featureIds,
      nodes_modes: { strings: modes },
      nodes_values: { floats: values },
      nodes_truenodeids: trueIds,
      nodes_falsenodeids: falseIds,
      class_treeids: leafTrees,
      class_nodeids: leafNodes,
      class_ids: leafLabels,
      class_weights: { floats: new Float32Array(leafLabels.length).fill(1) },
      classlabels_int64s: Array.from({ length: declared }, (_, c) => c),
      post_transform: 'NONE',
    },
    'ai.onnx.ml',
  );
  const counted = declared === classes ? votes! : g.node('Slice', [votes!, g.ints([0]), g.ints([classes]), g.ints([1])]);
  return { probabilities: g.node('Div', [counted, g.scalar(roots.length)]) };
};
