/** A layer sweep's candidates as chart points, one per candidate, in layer order. Pure. */
import type { LayerChoice, LayerSweepReport, LayerSweepResult } from '../api/responses.js';
import { accuracyOf, layersName } from '../format.js';

export interface SweepPoints {
  /** The candidates in chart order: single layers from the bottom up, then combinations as measured. */
  candidates: LayerSweepResult[];
  names: string[];
  macroF1: number[];
  /** Accuracy, or on a multi-label task subset accuracy. */
  accuracy: number[];
  withinOneSe: boolean[];
  /** Index (in `candidates`) of the one the job trained on; -1 if the report names none of them. */
  chosen: number;
}

const sameSpec = (a: LayerChoice, b: LayerChoice) =>
  a.layers.length === b.layers.length &&
  a.layers.every((l, i) => l === b.layers[i]) &&
  a.layer_combine === b.layer_combine &&
  a.pooling === b.pooling &&
  a.normalize === b.normalize;

/** Single layers by depth first (the report starts with the task's own layer, wherever it is), combinations after. */
const chartOrder = (a: LayerSweepResult, b: LayerSweepResult) => {
  if (a.layers.length === 1 && b.layers.length === 1) return a.layers[0]! - b.layers[0]!;
  return (a.layers.length === 1 ? 0 : 1) - (b.layers.length === 1 ? 0 : 1);
};

export function sweepPoints(report: LayerSweepReport): SweepPoints {
  const candidates = [...report.results].sort(chartOrder);
  // Pooling and normalisation are the same across a sweep's candidates; only the layers tell them apart.
  return {
    candidates,
    names: candidates.map((c) => layersName(c).replace(/^layers? /, '')),
    macroF1: candidates.map((c) => c.macro_f1),
    accuracy: candidates.map(accuracyOf),
    withinOneSe: candidates.map((c) => c.within_one_se),
    chosen: candidates.findIndex((c) => sameSpec(c, report.chosen)),
  };
}
