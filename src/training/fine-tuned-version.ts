/**
 * What a fine-tuning run makes of a version: its head type, feature spec,
 * artifact and tuned stack. A job adds the rest (parameters, labels,
 * metrics, report, evaluation) and hands the whole to the store's finishJob,
 * which writes the stack with the version and names the version in its spec.
 */
import type { FeatureSpec } from '../encoder/feature-spec.js';
import { encodeTunedStack, type TunedStack, tunedStackBytes } from '../encoder/tuned-stack.js';
import { FINE_TUNE_HEAD, fineTunedArtifact } from '../heads/fine-tuned.js';
import type { LogisticArtifact } from '../heads/logistic/model.js';
import { multiLabelArtifact } from '../heads/registry.js';
import type { NewTunedStack, NewVersion } from '../store/types.js';

/** The stack as the store keeps it: compressed (encodeTunedStack), with its layers and its size loaded. */
export function storedTunedStack(stack: TunedStack): NewTunedStack {
  return { bytes: encodeTunedStack(stack), first: stack.first, last: stack.last, loadedBytes: tunedStackBytes(stack) };
}

/**
 * The features a stack's classifier reads: the model's last hidden state as the tuned layers give it, mean
 * over the tokens, not normalised (the store adds `tuned`, naming the version, when it writes it).
 */
export function fineTunedSpec(stack: TunedStack): FeatureSpec {
  return { model: stack.model.name, layers: [stack.last + 1], layerCombine: 'concat', pooling: 'mean', normalize: false };
}

/**
 * A fine-tuning run's part of its version. `thresholds`: a multi-label
 * classifier's (sigmoid outputs), one a label, chosen by the job.
 */
export function fineTunedParts(
  run: { stack: TunedStack; classifier: LogisticArtifact },
  thresholds?: Float32Array,
): Pick<NewVersion, 'headType' | 'spec' | 'artifact' | 'tunedStack'> {
  const { stack, classifier } = run;
  if ((classifier.output === 'sigmoid') !== (thresholds !== undefined)) throw new Error('a multi-label classifier needs its thresholds, and only it');
  const head = thresholds ? multiLabelArtifact(classifier, thresholds) : classifier;
  return {
    headType: FINE_TUNE_HEAD,
    spec: fineTunedSpec(stack),
    artifact: fineTunedArtifact(stack.model.name, stack.first, stack.last, head),
    tunedStack: storedTunedStack(stack),
  };
}
