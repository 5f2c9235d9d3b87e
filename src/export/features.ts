/**
 * A feature spec as ONNX operators on the encoder's hidden states: what
 * ../encoder/pooling.ts computes, over the tokens the attention mask keeps:
 * pool each chosen layer (mean, first token, max), combine the layers
 * (concatenate, or average), L2-normalise.
 */
import { type FeatureSpec, specDimensions } from '../encoder/feature-spec.js';
import { hiddenStateName } from '../encoder/manifest.js';
import { DT, type GraphBuilder } from '../onnx/graph.js';

/**
 * The [batch, dim] float32 features of `spec` from the graph's hidden states and its [batch, sequence] int64
 * `attentionMask`; `stateOf` names the value holding a hidden state (default: the imported graph's).
 */
export function featureNodes(
  g: GraphBuilder,
  spec: FeatureSpec,
  hidden: number,
  attentionMask: string,
  stateOf: (layer: number) => string = hiddenStateName,
): { features: string; dim: number } {
  const mask3 = g.node('Unsqueeze', [attentionMask, g.ints([2])]);
  const pool = (states: string): string => {
    switch (spec.pooling) {
      case 'cls':
        return g.node('Gather', [states, g.int(0)], { axis: 1 });
      case 'max': {
        const kept = g.node('Where', [g.node('Cast', [mask3], { to: DT.BOOL }), states, g.scalar(-Infinity)]);
        return g.node('ReduceMax', [kept], { axes: [1], keepdims: 0 });
      }
      case 'mean': {
        const weights = g.node('Cast', [mask3], { to: DT.FLOAT });
        const sum = g.node('ReduceSum', [g.node('Mul', [states, weights]), g.ints([1])], { keepdims: 0 });
        return g.node('Div', [sum, g.node('ReduceSum', [weights, g.ints([1])], { keepdims: 0 })]);
      }
    }
  };
  const pooled = spec.layers.map((layer) => pool(stateOf(layer)));
  let features =
    pooled.length === 1
      ? pooled[0]!
      : spec.layerCombine === 'concat'
        ? g.node('Concat', pooled, { axis: 1 })
        : g.node('Mul', [g.node('Sum', pooled), g.scalar(1 / pooled.length)]);
  if (spec.normalize) {
    // A zero vector stays zero, as the service's: its norm is floored above 0 rather than divided by.
    const norm = g.node('ReduceL2', [features], { axes: [1], keepdims: 1 });
    features = g.node('Div', [features, g.node('Max', [norm, g.scalar(1e-30)])]);
  }
  return { features, dim: specDimensions(spec, hidden) };
}
