/**
 * Training graphs for onnxruntime: reverse-mode differentiation of the
 * graphs GraphBuilder writes (./differentiate.ts), the rules it applies per
 * operator (./rules), the static shapes they need (./shapes.ts), and losses
 * written in differentiable operators (./losses.ts). docs/autodiff.md says
 * how a training step is put together from them.
 */
export { GradientContext, type GradientRule } from './context.js';
export { type DifferentiateOptions, type Differentiation, differentiate } from './differentiate.js';
export { l2Penalty, sigmoidBinaryCrossEntropy, softmaxCrossEntropy, supervisedContrastive } from './losses.js';
export { constantOperators, gradientRules } from './rules/index.js';
export { type Facts, inferShapes, type ValueFacts } from './shapes.js';
export { cutAt, dropUnusedInputs, liftInitializers, type Weight } from './trainable.js';
