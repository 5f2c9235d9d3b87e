/** A layer sweep's candidates as chart points, one per candidate, in the order they were measured. Pure. */
import type { LayerSweepReport, SpecDescription } from '../api/types.js';
import { layersName } from '../format.js';

export interface SweepPoints {
  names: string[];
  macroF1: number[];
  accuracy: number[];
  dimensions: number[];
  withinOneSe: boolean[];
  /** Index of the candidate the job trained on; -1 if the report names none of them. */
  chosen: number;
}

const sameSpec = (a: SpecDescription, b: SpecDescription) =>
  a.layers.length === b.layers.length &&
  a.layers.every((l, i) => l === b.layers[i]) &&
  a.layer_combine === b.layer_combine &&
  a.pooling === b.pooling &&
  a.normalize === b.normalize;

export function sweepPoints(report: LayerSweepReport): SweepPoints {
  const r = report.results;
  // Pooling and normalisation are the same across a sweep's candidates; only the layers tell them apart.
  return {
    names: r.map((c) => layersName(c).replace(/^layers? /, '')),
    macroF1: r.map((c) => c.macro_f1),
    accuracy: r.map((c) => c.accuracy),
    dimensions: r.map((c) => c.dimensions),
    withinOneSe: r.map((c) => c.within_one_se),
    chosen: r.findIndex((c) => sameSpec(c, report.chosen)),
  };
}
