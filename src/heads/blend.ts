/**
 * A trained head blended with its task's label descriptions: the
 * probabilities (1 − w)·head + w·prior, where the prior is the prototype
 * head of the labels' descriptions (what version 0 serves) on the same
 * features, and w is chosen by the job on out-of-fold predictions. With few
 * examples a label the descriptions carry what the examples cannot yet; as
 * examples accumulate, the job chooses a smaller w.
 */
import type { OnnxHeadExport, Predictor } from './head.js';

export interface BlendArtifact {
  format: 'blend';
  /** The prior's weight, in (0, 1]. */
  weight: number;
  /** The trained head's artifact (its head type's format). */
  head: unknown;
  /** A prototype artifact of the labels' texts, one prototype a label, in the version's label order. */
  prior: unknown;
}

export const BLEND_FIELDS =
  "weight (of the prior, in (0, 1]), head (the trained head's artifact), prior (a prototype artifact of the labels' descriptions, in the version's label order): the probabilities are (1 − weight)·head + weight·prior.";

export function blendArtifact(head: unknown, prior: unknown, weight: number): BlendArtifact {
  return { format: 'blend', weight, head, prior };
}

/** The blended probabilities of two predictors of the same classes. */
export function blendPredictor(head: Predictor, prior: Predictor, weight: number): Predictor {
  if (head.classes !== prior.classes) throw new Error(`blend artifact: the head has ${head.classes} classes, its prior ${prior.classes}`);
  return {
    classes: head.classes,
    predictProba(x, n) {
      const a = head.predictProba(x, n);
      const b = prior.predictProba(x, n);
      const out = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = (1 - weight) * a[i]! + weight * b[i]!;
      return out;
    },
  };
}

/** The export of a blend: both heads on the same features, their probabilities weighted and summed. */
export function blendExport(headExport: OnnxHeadExport, priorExport: OnnxHeadExport): OnnxHeadExport {
  return (artifact, input) => {
    const a = artifact as BlendArtifact;
    const { graph: g, prefix } = input;
    const head = headExport(a.head, { ...input, prefix: `${prefix}head_` }).probabilities;
    const prior = priorExport(a.prior, { ...input, prefix: `${prefix}prior_` }).probabilities;
    const wHead = g.float(`${prefix}blend_head_weight`, [], [1 - a.weight]);
    const wPrior = g.float(`${prefix}blend_prior_weight`, [], [a.weight]);
    return { probabilities: g.node('Add', [g.node('Mul', [head, wHead]), g.node('Mul', [prior, wPrior])]) };
  };
}
