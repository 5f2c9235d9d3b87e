/**
 * The hyper-parameter search on the chosen features: the grid of every
 * searched head type, by successive halving over folds (../search-plan.ts)
 * or the full grid, the winner chosen by macro-F1 on every fold (the first
 * best wins ties, in grid order).
 */
import { halvingRungs } from '../search-plan.js';
import { type Config, type PipelineRun, round, scoreFields } from './run.js';

export interface SearchOutcome {
  /** The head the later stages evaluate and fit: the search's winner, or the probe when nothing is searched. */
  best: Config;
  /** The report's `search`; none without a search. */
  report?: Record<string, unknown>;
}

export async function search(run: PipelineRun, chosen: number): Promise<SearchOutcome> {
  const searched = run.searchGrid(chosen);
  if (!searched.length || !run.splits.length) return { best: run.probe };
  const { request, targets } = run.input;
  const { allSplits } = run;
  const rungs = request.searchStrategy === 'grid' || targets ? [] : halvingRungs(searched.length, run.splits.length);
  // Each rung scores the configurations still in on its first folds and drops all but the best it keeps.
  const dropped = await run.timed('search', async () => {
    let alive = searched;
    const out: Array<{ config: Config; folds: number; f1: number }> = [];
    for (const rung of rungs) {
      const which = allSplits.slice(0, rung.folds);
      await run.runFolds(chosen, alive, which);
      const ranked = alive.map((config) => ({ config, f1: run.partialF1(chosen, config, which) })).sort((a, b) => b.f1 - a.f1);
      for (const r of ranked.slice(rung.keep)) out.push({ config: r.config, folds: rung.folds, f1: r.f1 });
      const kept = new Set(ranked.slice(0, rung.keep).map((r) => r.config));
      alive = alive.filter((c) => kept.has(c));
    }
    await run.runFolds(chosen, alive, allSplits);
    return out;
  });
  const finished = searched.filter((c) => !dropped.some((x) => x.config === c));
  const validated = await run.validate(chosen, finished);
  const results = finished.map((config, i) => ({ config, v: validated[i]! }));
  const best = results.reduce((b, r) => (r.v.macroF1 > b.v.macroF1 ? r : b), results[0]!).config;
  return {
    best,
    report: {
      metric: 'macro_f1',
      strategy: rungs.length ? 'successive halving over folds' : 'full grid',
      ...(rungs.length ? { rungs: rungs.map((r) => ({ folds: r.folds, kept: r.keep })) } : {}),
      results: searched.map((config) => {
        const early = dropped.find((x) => x.config === config);
        if (early) return { head_type: config.type, params: config.params, macro_f1: round(early.f1), folds: early.folds, dropped: true };
        const v = results.find((r) => r.config === config)!.v;
        return { head_type: config.type, params: config.params, ...scoreFields(v), folds: run.splits.length, ms: Math.round(v.ms) };
      }),
      chosen: { head_type: best.type, params: best.params },
    },
  };
}
