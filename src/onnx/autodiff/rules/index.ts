/**
 * The table of gradient rules, one entry per operator type of the default
 * domain (other domains' operators are keyed `domain.OpType`), and the
 * operators whose outputs carry no gradient at all.
 */
import type { GradientRule } from '../context.js';
import { elementwiseRules } from './elementwise.js';
import { layoutRules } from './layout.js';
import { linearRules } from './linear.js';
import { reductionRules } from './reductions.js';

export const gradientRules: Readonly<Record<string, GradientRule>> = { ...elementwiseRules, ...linearRules, ...reductionRules, ...layoutRules };

/**
 * Operators whose float outputs are piecewise constant or made from shapes
 * only: the gradient stops there (integer and bool values stop it anyway).
 */
export const constantOperators: ReadonlySet<string> = new Set([
  'Sign',
  'Floor',
  'Ceil',
  'Round',
  'Shape',
  'Size',
  'ConstantOfShape',
  'EyeLike',
  'RandomNormalLike',
  'RandomUniformLike',
  'Bernoulli',
]);
