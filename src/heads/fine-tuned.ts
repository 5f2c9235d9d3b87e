/**
 * A fine-tuned version's artifact: its classifier (logistic regression's
 * softmax-linear form, or the multi-label wrapper of one with sigmoid
 * outputs) and which of the model's layers were tuned for it. The tuned
 * layers' weights are stored beside the version (the store's tuned stack),
 * and the version's feature spec names them: the features the classifier
 * scores are already the tuned layers' pooled output, so its predictor is
 * the classifier's.
 */

/** The head type of a fine-tuned version (what a training request names to fine-tune). */
export const FINE_TUNE_HEAD = 'fine_tune';

export interface FineTunedArtifact {
  format: 'fine-tuned';
  /** The model whose layers were tuned (its name, as the version's feature spec gives it). */
  model: string;
  /** The tuned layers, first and last included (0-based): layer `first` reads the shared encoder's hidden state `first`. */
  first: number;
  last: number;
  /** How the tuned layers' output becomes the classifier's input: the mean over each text's tokens, not normalised. */
  pooling: 'mean';
  /** The classifier: a softmax-linear artifact, or the multi-label wrapper of one. */
  head: unknown;
}

export function fineTunedArtifact(model: string, first: number, last: number, head: unknown): FineTunedArtifact {
  return { format: 'fine-tuned', model, first, last, pooling: 'mean', head };
}

export const FINE_TUNED_FIELDS =
  'model (whose layers were tuned), first and last (the tuned layers, 0-based; their weights are stored with the version and exported in place), pooling ("mean": the tuned layers\' output averaged over the tokens, not normalised), head (the classifier on it: "softmax-linear", or "multi-label" around one).';

/** The artifact's classifier when `artifact` is a fine-tuned version's, else undefined. */
export function fineTunedHead(artifact: unknown): unknown {
  const a = artifact as Partial<FineTunedArtifact> | null;
  return a?.format === 'fine-tuned' ? a.head : undefined;
}

/** The format of a fine-tuned version's classifier (logistic regression's), multi-label wrapper aside. */
export const FINE_TUNED_CLASSIFIER = 'softmax-linear';
