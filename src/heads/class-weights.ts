/**
 * `class_weight` for the heads that take one (SVM, logistic regression), from
 * the API's form ({label: weight} or 'balanced') to weights by class index.
 */
import { labelValue } from './label-record.js';

/** A request's class_weight by class index (labels it does not name weigh 1); 'balanced' is resolved on the rows a fit sees. */
export function classWeightsByIndex(
  weights: 'balanced' | Readonly<Record<string, number>> | null,
  labels: readonly string[],
): 'balanced' | number[] | undefined {
  if (weights === 'balanced') return 'balanced';
  return weights ? labels.map((l) => labelValue(weights, l) ?? 1) : undefined;
}

/** scikit-learn's 'balanced': n / (classes present × count) for each class in the first n labels of y, 1 for classes absent. */
export function balancedClassWeights(y: Int32Array, n: number, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) counts[y[i]!]!++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c > 0 ? n / (present * c) : 1));
}
