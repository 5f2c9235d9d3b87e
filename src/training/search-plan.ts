/**
 * How a search spends its folds: successive halving (Jamieson & Talwalkar,
 * 2016) over cross-validation folds. Every configuration is scored on the
 * first fold; the best third goes on to more folds; only the last few are
 * cross-validated on all of them, and the winner is chosen among those on
 * every fold, as a full grid would. A configuration that trails on a fold
 * of its own rarely leads on five; the fits it would have cost are most of a
 * grid's. Pure: the pipeline runs the plan.
 */

export interface Rung {
  /** Folds scored by the end of this rung (the first `folds` splits). */
  folds: number;
  /** Configurations that go on to the next rung. */
  keep: number;
}

/** Fewest configurations worth halving: below it the whole grid is cheap. */
const MIN_CONFIGS = 6;
/** Fewest configurations a search carries to every fold. */
const FINALISTS = 3;
/** The share of configurations each rung keeps. */
const KEEP = 1 / 3;

/**
 * The rungs before the last (which runs the survivors on every fold), for
 * `configs` configurations and `folds` splits; none when a full grid costs
 * little more (few configurations, or fewer than three folds: a hold-out has one).
 */
export function halvingRungs(configs: number, folds: number): Rung[] {
  if (configs < MIN_CONFIGS || folds < 3) return [];
  const rungs: Rung[] = [];
  let alive = configs;
  let scored = 1;
  while (alive > FINALISTS && scored < folds) {
    const keep = Math.max(FINALISTS, Math.ceil(alive * KEEP));
    rungs.push({ folds: scored, keep });
    alive = keep;
    scored = Math.min(folds, scored * 2 + 1);
  }
  return rungs;
}
