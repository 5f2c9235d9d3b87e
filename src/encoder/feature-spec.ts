/**
 * A feature spec says how a text becomes a feature vector: which model, which
 * hidden layers, how tokens are pooled, how layers are combined, and whether
 * the result is L2-normalised. Two tasks with equal specs share features.
 */
import { DomainError } from '../errors.js';

export const POOLINGS = ['mean', 'cls', 'max'] as const;
export const COMBINES = ['concat', 'mean'] as const;
export type Pooling = (typeof POOLINGS)[number];
export type LayerCombine = (typeof COMBINES)[number];

/**
 * A fine-tuned version's own encoder layers: hidden state `first` of the
 * shared encoder goes through the version's tuned stack (layers first … L − 1),
 * whose output stands for hidden state L. Only a version's spec has it (the
 * store writes it with the version); clients never ask for it.
 */
export interface TunedLayers {
  /** The fine-tuned version's id: its stack, and the key of its cached features. */
  version: string;
  /** The first tuned layer: it reads the shared encoder's hidden state `first`. */
  first: number;
}

/** A spec with absolute layer indexes (0 = embedding output, L = last encoder layer). */
export interface FeatureSpec {
  model: string;
  layers: number[];
  layerCombine: LayerCombine;
  pooling: Pooling;
  normalize: boolean;
  tuned?: TunedLayers;
}

/** What a client may send: layers may be negative (-1 = last) and everything but the model is optional. */
export interface FeatureSpecInput {
  model: string;
  layers?: number | number[] | undefined;
  layer_combine?: LayerCombine | undefined;
  pooling?: Pooling | undefined;
  normalize?: boolean | undefined;
}

/**
 * Resolves negative layer indexes against a model with `modelLayers` encoder
 * layers and fills defaults (last layer, mean pooling, concat, normalized).
 */
export function resolveSpec(input: FeatureSpecInput, modelLayers: number): FeatureSpec {
  const requested = input.layers === undefined ? [-1] : Array.isArray(input.layers) ? input.layers : [input.layers];
  if (requested.length === 0) throw new DomainError('invalid_feature_spec', 'layers must name at least one layer', 'layers');
  const layers = requested.map((l) => {
    const abs = l < 0 ? modelLayers + 1 + l : l;
    if (!Number.isInteger(l) || abs < 0 || abs > modelLayers) {
      throw new DomainError(
        'invalid_feature_spec',
        `layer ${l} is out of range: model ${input.model} has hidden states 0..${modelLayers} (or -1..-${modelLayers + 1} from the top)`,
        'layers',
      );
    }
    return abs;
  });
  if (new Set(layers).size !== layers.length)
    throw new DomainError('invalid_feature_spec', `layers [${requested.join(', ')}] name the same layer twice`, 'layers');
  return {
    model: input.model,
    layers,
    // With one layer the combine mode changes nothing; fixing it keeps equal specs equal.
    layerCombine: layers.length === 1 ? 'concat' : (input.layer_combine ?? 'concat'),
    pooling: input.pooling ?? 'mean',
    normalize: input.normalize ?? true,
  };
}

/** Length of the feature vector a spec yields for a model of hidden size `hidden`. */
export function specDimensions(spec: FeatureSpec, hidden: number): number {
  return spec.layerCombine === 'concat' ? hidden * spec.layers.length : hidden;
}

/** A canonical string: equal specs have equal keys, so it keys the feature cache and store. */
export function specKey(spec: FeatureSpec): string {
  const key = `${spec.model}|${spec.layers.join(',')}|${spec.layerCombine}|${spec.pooling}|${spec.normalize ? 'l2' : 'raw'}`;
  // A fine-tuned version's features are its own: its id is in the key.
  return spec.tuned ? `${key}|tuned:${spec.tuned.version}@${spec.tuned.first}` : key;
}

/** The spec in the API's snake_case shape (a tuned spec's version is the one the API shows it with: its id stays inside). */
export function specToJson(spec: FeatureSpec): Required<FeatureSpecInput> & { layers: number[]; tuned?: { first_layer: number } } {
  const json = { model: spec.model, layers: spec.layers, layer_combine: spec.layerCombine, pooling: spec.pooling, normalize: spec.normalize };
  return spec.tuned ? { ...json, tuned: { first_layer: spec.tuned.first } } : json;
}
