/** A trained MLP head: its stored form and its predictor (what serving needs, nothing of training). */
import type { Binding } from 'onnxruntime-node/dist/binding.js';
import { type SyncOrt, syncOrt, unshared } from '../../onnx/session.js';
import type { Predictor } from '../head.js';
import { forwardGraph, type LayerWeights, type MlpOutput } from './graph.js';

export interface MlpArtifact {
  format: 'mlp';
  classes: number;
  dim: number;
  activation: 'relu';
  /** softmax (the default: one label per text) or sigmoid (multi-label). */
  output?: MlpOutput;
  /** Input to output; weights out × in, row-major. */
  layers: Array<{ in: number; out: number; weights: number[]; bias: number[] }>;
}

/** The artifact's layers as float32 weights, after checking that they chain from `dim` to `classes`. */
export function layerWeightsOf(artifact: MlpArtifact): LayerWeights[] {
  if (artifact.format !== 'mlp') throw new Error(`not an mlp artifact: ${String(artifact.format)}`);
  let width = artifact.dim;
  const layers = artifact.layers.map((layer) => {
    if (layer.in !== width || layer.weights.length !== layer.in * layer.out || layer.bias.length !== layer.out)
      throw new Error('mlp artifact: layer shapes do not chain');
    width = layer.out;
    return { in: layer.in, out: layer.out, w: Float32Array.from(layer.weights), b: Float32Array.from(layer.bias) };
  });
  if (layers.length === 0 || width !== artifact.classes) throw new Error('mlp artifact: the last layer does not output one value per class');
  return layers;
}

export class MlpPredictor implements Predictor {
  readonly classes: number;
  private readonly dim: number;
  private readonly ort: SyncOrt;
  private readonly session: Binding.InferenceSession;

  constructor(artifact: MlpArtifact, threads = 1) {
    const ort = syncOrt();
    if (!ort) throw new Error('the mlp head needs onnxruntime-node');
    this.ort = ort;
    this.classes = artifact.classes;
    this.dim = artifact.dim;
    this.session = ort.createSession(forwardGraph(layerWeightsOf(artifact), artifact.output ?? 'softmax'), threads);
  }

  predictProba(x: Float32Array, n: number): Float32Array {
    const out = new Float32Array(n * this.classes);
    if (n === 0) return out;
    const { Tensor } = this.ort;
    const input = new Tensor('float32', unshared(x.subarray(0, n * this.dim)), [n, this.dim]);
    this.session.run({ x: input }, { probabilities: new Tensor('float32', out, [n, this.classes]) }, {});
    return out;
  }
}
