/**
 * A fine-tuning job's two graphs, from the frozen states [rows, width, H]
 * (fp16, as ./frozen-states.ts keeps them) of a batch of texts laid out in
 * rows (one text a row, or several: `attention_mask` numbers them):
 *
 * - step: the tuned layers with dropout masks, mean pooling, dropout, the
 *   linear classifier, the loss (softmax cross-entropy over labels, or for
 *   multi-label tasks the binary cross-entropy of each label's sigmoid,
 *   averaged over labels), and its gradient by every tuned weight and the
 *   classifier (../../onnx/autodiff); or, for the contrastive objective,
 *   the supervised contrastive loss of the pooled vectors, without the
 *   classifier;
 * - evaluation: the same forward pass without dropout, ending in the
 *   probabilities; embedding: the pooled vectors.
 *
 * Pooling is a product: `pooling` [texts, rows·width] holds 1/length on each
 * text's tokens, so the mean of each text, packed or padded, is one MatMul
 * (and its gradient another). Every weight is an input, fed the values of
 * the moment; linear weights transposed ([in, out], see addEncoderLayers).
 */
import { sequenceMask } from '../../encoder/import/attention.js';
import { addEncoderLayers, type DropoutMask, type LayerDims, type WeightInput } from '../../encoder/import/layer-stack.js';
import { differentiate, sigmoidBinaryCrossEntropy, softmaxCrossEntropy, supervisedContrastive } from '../../onnx/autodiff/index.js';
import { DT, GraphBuilder } from '../../onnx/graph.js';
import { CONTRASTIVE_TEMPERATURE, type FineTuneObjective } from './recipe.js';

export type ClassifierOutput = 'softmax' | 'sigmoid';

export interface GraphSpec {
  dims: LayerDims;
  /** The tuned layers [first, last]. */
  first: number;
  last: number;
  classes: number;
  output: ClassifierOutput;
}

export const CLASSIFIER_WEIGHT = 'classifier.weight';
export const CLASSIFIER_BIAS = 'classifier.bias';
export const POOLED_DROPOUT = 'dropout.pooled';

/** A trainable input: a tuned layer's weight, or the classifier's ([classes, H] and [classes]). */
export interface Parameter {
  input: string;
  dims: number[];
  /** The checkpoint tensor it holds (transposed when `transposed`); undefined for the classifier's. */
  tensor?: string;
  transposed: boolean;
}

/** A dropout mask input: a layer's (see DropoutMask), or the pooled vector's ([texts, H], layer -1). */
export interface MaskInput {
  input: string;
  layer: number;
  site: DropoutMask['site'] | 'pooled';
}

export interface TrainingGraph {
  bytes: Uint8Array;
  /** Every trainable input, the tuned layers' in order, then the classifier's weight and bias. */
  parameters: Parameter[];
  /** Step graph: the dropout mask inputs, each fed 0 or 1/(1 − p). */
  masks: MaskInput[];
}

const TEXTS = 'texts';
const ROWS = 'batch_size';
const WIDTH = 'sequence_length';

/** The tuned layers and mean pooling, with dropout on the pooled vector when `dropout`: [texts, H]. */
function encode(g: GraphBuilder, spec: GraphSpec, dropout: boolean) {
  const H = spec.dims.hidden_size;
  const states = g.input('states', DT.FLOAT16, [ROWS, WIDTH, H]);
  const mask = g.input('attention_mask', DT.INT64, [ROWS, WIDTH]);
  const pooling = g.input('pooling', DT.FLOAT, [TEXTS, `${ROWS}*${WIDTH}`]);
  const stack = addEncoderLayers(g, {
    dims: spec.dims,
    first: spec.first,
    last: spec.last,
    input: g.node('Cast', [states], { to: DT.FLOAT }),
    attends: sequenceMask(g, mask).attends,
    weights: { from: 'inputs', dropout },
  });
  const top = stack.states[stack.states.length - 1]!;
  let pooled = g.node('MatMul', [pooling, g.node('Reshape', [top, g.ints([-1, H])])]);
  if (dropout) pooled = g.node('Mul', [pooled, g.input(POOLED_DROPOUT, DT.FLOAT, [TEXTS, H])]);
  const parameters: Parameter[] = stack.weights.map((w: WeightInput) => ({ input: w.input, dims: w.dims, tensor: w.tensor, transposed: w.transposed }));
  const masks: MaskInput[] = [...stack.dropout, ...(dropout ? [{ input: POOLED_DROPOUT, site: 'pooled' as const, layer: -1 }] : [])];
  return { pooled, parameters, masks };
}

/** The encoding and the linear classifier: the logits [texts, classes], the classifier's parameters after the layers'. */
function forward(g: GraphBuilder, spec: GraphSpec, dropout: boolean) {
  const H = spec.dims.hidden_size;
  const { pooled, parameters, masks } = encode(g, spec, dropout);
  const weight = g.input(CLASSIFIER_WEIGHT, DT.FLOAT, [spec.classes, H]);
  const bias = g.input(CLASSIFIER_BIAS, DT.FLOAT, [spec.classes]);
  const logits = g.node('Gemm', [pooled, weight, bias], { transB: 1 });
  parameters.push(
    { input: CLASSIFIER_WEIGHT, dims: [spec.classes, H], transposed: false },
    { input: CLASSIFIER_BIAS, dims: [spec.classes], transposed: false },
  );
  return { logits, parameters, masks };
}

/**
 * The step graph: outputs `loss` and `grad_<input>` for every parameter. With `dropout` false, no mask inputs.
 * The contrastive objective's has no classifier: it takes `positives` and `exclude` [texts, texts] (see
 * supervisedContrastive) where the classification one takes `labels` or `targets`.
 */
export function stepGraph(spec: GraphSpec, dropout: boolean, objective: FineTuneObjective = 'classification'): TrainingGraph {
  const g = new GraphBuilder('fine_tune_step', 17);
  let loss: string;
  let trained: { parameters: Parameter[]; masks: MaskInput[] };
  if (objective === 'contrastive') {
    const { pooled, ...rest } = encode(g, spec, dropout);
    trained = rest;
    const positives = g.input('positives', DT.FLOAT, [TEXTS, TEXTS]);
    loss = supervisedContrastive(g, pooled, positives, g.input('exclude', DT.FLOAT, [TEXTS, TEXTS]), CONTRASTIVE_TEMPERATURE);
  } else {
    const { logits, ...rest } = forward(g, spec, dropout);
    trained = rest;
    if (spec.output === 'softmax') loss = softmaxCrossEntropy(g, logits, g.input('labels', DT.INT64, [TEXTS]), spec.classes);
    else {
      const targets = g.input('targets', DT.FLOAT, [TEXTS, spec.classes]);
      loss = g.node('Mul', [sigmoidBinaryCrossEntropy(g, logits, targets), g.scalar(1 / spec.classes)]);
    }
  }
  g.output('loss', loss, DT.FLOAT, []);
  differentiate(g, { loss, wrt: trained.parameters.map((p) => p.input), outputs: true });
  g.prune();
  return { bytes: g.encode('transferd-fine-tune'), ...trained };
}

/** The evaluation graph: outputs `probabilities` [texts, classes]. */
export function evaluationGraph(spec: GraphSpec): TrainingGraph {
  const g = new GraphBuilder('fine_tune_forward', 17);
  const { logits, parameters } = forward(g, spec, false);
  const p = spec.output === 'softmax' ? g.node('Softmax', [logits], { axis: -1 }) : g.node('Sigmoid', [logits]);
  g.output('probabilities', p, DT.FLOAT, [TEXTS, spec.classes]);
  g.prune();
  return { bytes: g.encode('transferd-fine-tune'), parameters, masks: [] };
}

/** The embedding graph: outputs `pooled` [texts, H], the tuned layers' mean-pooled output (what the classifier reads). */
export function embeddingGraph(spec: GraphSpec): TrainingGraph {
  const g = new GraphBuilder('fine_tune_embed', 17);
  const { pooled, parameters } = encode(g, spec, false);
  g.output('pooled', pooled, DT.FLOAT, [TEXTS, spec.dims.hidden_size]);
  g.prune();
  return { bytes: g.encode('transferd-fine-tune'), parameters, masks: [] };
}

export const gradName = (input: string) => `grad_${input}`;
