/** A whole forest grown in the calling thread: tests compare the pooled training against it. */
import type { Dataset } from '../../src/heads/dataset.js';
import type { ForestArtifact } from '../../src/heads/forest/model.js';
import { type ForestParams, resolveForestParams } from '../../src/heads/forest/params.js';
import { assembleForest, trainTrees } from '../../src/heads/forest/train.js';

export function trainForestHere(data: Dataset, params: ForestParams = {}): ForestArtifact {
  const resolved = resolveForestParams(params, data.dim);
  return assembleForest(trainTrees(data, resolved, 0, resolved.nEstimators), data, resolved);
}
