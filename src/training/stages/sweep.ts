/**
 * The layer sweep (hierarchical transfer: which hidden state suits this
 * task): the probe configuration cross-validated on every candidate feature
 * matrix. The best macro-F1 wins unless a candidate with fewer dimensions is
 * within one standard error of it: then the smaller one does.
 */
import type { FeatureSpec } from '../../encoder/feature-spec.js';
import { type PipelineRun, scoreFields, type Validation } from './run.js';

export interface SweepOutcome {
  /** Index into the candidates of the features the later stages use. */
  chosen: number;
  /** The report's `layer_sweep`; none without a sweep. */
  report?: Record<string, unknown>;
}

function describeSpec(spec: FeatureSpec) {
  return { layers: spec.layers, layer_combine: spec.layerCombine, pooling: spec.pooling, normalize: spec.normalize };
}

/**
 * Whether a candidate's per-fold scores trail the best's by no more than one
 * standard error of the paired differences (Breiman's one-standard-error
 * rule): differences that small are fold noise, and the smaller candidate
 * predicts faster (docs/design.md). With a single hold-out split there is no
 * error estimate, and nothing is "close".
 */
export function withinOneStandardError(candidate: number[], best: number[]): boolean {
  const k = best.length;
  if (k < 2) return false;
  const diff = best.map((b, i) => b - candidate[i]!);
  const mean = diff.reduce((a, b) => a + b, 0) / k;
  const variance = diff.reduce((a, b) => a + (b - mean) ** 2, 0) / (k - 1);
  return mean <= Math.sqrt(variance / k);
}

export async function layerSweep(run: PipelineRun): Promise<SweepOutcome> {
  if (!run.input.request.layerSweep || !run.splits.length) return { chosen: 0 };
  const { datasets, probe } = run;
  const results = await run.timed('layer_sweep', async () => {
    const out: Array<{ d: number; v: Validation }> = [];
    for (let d = 0; d < datasets.length; d++) out.push({ d, v: (await run.validate(d, [probe]))[0]! });
    return out;
  });
  const best = results.reduce((b, r) => (r.v.macroF1 > b.v.macroF1 ? r : b), results[0]!);
  const close = results.filter((r) => r === best || withinOneStandardError(r.v.perSplitF1, best.v.perSplitF1));
  const dim = (r: { d: number }) => datasets[r.d]!.dim;
  const chosen = close.reduce((b, r) => (dim(r) < dim(b) || (dim(r) === dim(b) && r.v.macroF1 > b.v.macroF1) ? r : b), best).d;
  const { candidates } = run.input;
  return {
    chosen,
    report: {
      probe: { head_type: probe.type, params: probe.params },
      rule: 'best macro-F1; a candidate with fewer dimensions within one standard error of it (paired over folds) is preferred',
      results: results.map(({ d, v }) => ({
        ...describeSpec(candidates[d]!.spec),
        dimensions: datasets[d]!.dim,
        ...scoreFields(v),
        within_one_se: close.some((r) => r.d === d),
        ms: Math.round(v.ms),
      })),
      chosen: describeSpec(candidates[chosen]!.spec),
    },
  };
}
