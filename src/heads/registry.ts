/**
 * Every head type the service knows: training, serving and the API read this
 * list. A new head type is a folder under heads/ and one line in HEADS.
 */
import { forestHead } from './forest/index.js';
import { logisticHead } from './logistic/index.js';
import { mlpHead } from './mlp/index.js';
import { prototypeHead } from './prototype/index.js';
import type { HeadDefinition, LoadOptions, Predictor } from './head.js';
import { svmHead } from './svm/index.js';
import { ONE_VS_REST_FIELDS, type OneVsRestArtifact, oneVsRestPredictor } from './one-vs-rest.js';
import { FINE_TUNED_FIELDS, type FineTunedArtifact } from './fine-tuned.js';
import { BLEND_FIELDS, type BlendArtifact, blendPredictor } from './blend.js';

/** A head seen through the registry: its parameters are whatever its own schema produced. */
export type AnyHead = HeadDefinition<Record<string, unknown>>;

/** Each head's code is typed by its own parameters; the list only passes it parameters its schema parsed. */
const listed = <P extends object>(head: HeadDefinition<P>) => head as unknown as AnyHead;

export const HEADS: readonly AnyHead[] = [listed(svmHead), listed(forestHead), listed(logisticHead), listed(mlpHead), listed(prototypeHead)];

/** The head type called `type`, or undefined. */
export function headOf(type: string): AnyHead | undefined {
  return HEADS.find((h) => h.type === type);
}

/** A multi-label version's artifact: its head's (every label its own probability) and each label's threshold. */
export interface MultiLabelArtifact {
  format: 'multi-label';
  thresholds: number[];
  head: unknown;
}

export function multiLabelArtifact(head: unknown, thresholds: Float32Array): MultiLabelArtifact {
  return { format: 'multi-label', thresholds: Array.from(thresholds), head };
}

const MULTI_LABEL_FIELDS =
  "thresholds (one per label, in the version's label order: a label is predicted when its probability reaches it), head (the artifact that gives each label its own probability).";

/** Every artifact format `heads` store: what stores it, and its other fields in a line (the API documents them). */
export function artifactFormats(heads: readonly AnyHead[]): Array<{ format: string; of: string; fields: string }> {
  return [
    ...heads.map((h) => ({ format: h.format, of: `${h.type} heads`, fields: h.artifactDescription })),
    { format: 'multi-label', of: 'every multi-label version', fields: MULTI_LABEL_FIELDS },
    { format: 'one-vs-rest', of: 'inside "multi-label", for head types that fit one label at a time', fields: ONE_VS_REST_FIELDS },
    { format: 'fine-tuned', of: 'every fine-tuned version (head type fine_tune)', fields: FINE_TUNED_FIELDS },
    { format: 'blend', of: 'a single-label version trained on few examples, blended with its label descriptions', fields: BLEND_FIELDS },
  ];
}

/** A predictor for a stored artifact, whatever its head type (found by the artifact's `format`). */
export function loadPredictor(artifact: unknown, options: LoadOptions = {}): Predictor {
  const format = (artifact as { format?: unknown } | null)?.format;
  if (format === 'one-vs-rest') return oneVsRestPredictor(artifact as OneVsRestArtifact, loadPredictor, options);
  // The features are the tuned layers' output (the version's spec says so): what scores them is the classifier.
  if (format === 'fine-tuned') return loadPredictor((artifact as FineTunedArtifact).head, options);
  if (format === 'blend') {
    const blend = artifact as BlendArtifact;
    return blendPredictor(loadPredictor(blend.head, options), loadPredictor(blend.prior, options), blend.weight);
  }
  if (format === 'multi-label') {
    const wrapped = artifact as MultiLabelArtifact;
    const inner = loadPredictor(wrapped.head, options);
    if (wrapped.thresholds.length !== inner.classes) throw new Error('multi-label artifact: one threshold per label expected');
    const thresholds = Float32Array.from(wrapped.thresholds);
    return { classes: inner.classes, thresholds, predictProba: (x, n) => inner.predictProba(x, n) };
  }
  const head = HEADS.find((h) => h.format === format);
  if (!head) throw new Error(`unknown artifact format ${String(format)}`);
  return head.load(artifact, options);
}
