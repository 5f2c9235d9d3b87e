/**
 * Fine-tuning an encoder's top layers and a classifier for one task: what a
 * training job calls (docs/fine-tuning.md).
 */
export { decodeCheckpoint, encodeCheckpoint, type EpochRecord, type FineTuneCheckpoint } from './checkpoint.js';
export {
  epochOrder,
  type FineTuneHooks,
  type FineTuneInput,
  type FineTuneLabels,
  type FineTuneResult,
  type FineTuneStats,
  fineTune,
  pairedOrder,
  type StepProgress,
} from './fine-tune.js';
export { FINE_TUNE_DESCRIPTION, type FineTuneParams, fineTuneParamsSchema, recipeOf, untrainableReason } from './params.js';
export { DEFAULT_RECIPE, FEW_SHOT_BELOW, FEW_SHOT_RECIPE, type FineTuneRecipe, learningRateAt, resolveRecipe, stepsOf } from './recipe.js';
