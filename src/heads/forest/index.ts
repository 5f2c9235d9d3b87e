/**
 * Random-forest classifier head. Artifacts are ml-random-forest 2.1
 * `RandomForestClassifier#toJSON()` models, loadable by that library, but
 * trees are grown by our own CART builder (scikit-learn's algorithm).
 */
export type { ForestParams, MaxFeatures, ResolvedForestParams } from './params.js';
export { resolveForestParams } from './params.js';
export type { FlatTree } from './cart.js';
export type { ForestArtifact, RandomForestClassifierJSON } from './model.js';
export { trainForest, trainTrees, assembleForest } from './train.js';
export { ForestPredictor, loadForestPredictor } from './predict.js';
