/**
 * Turning an inference model into the forward half of a training graph:
 * the weights to train become graph inputs (a step feeds the weights of the
 * moment, updated in JS between steps, rather than baking them in), and the
 * graph can be cut at a value that becomes an input (the frozen layers below
 * it run once per text, elsewhere; the step graph starts from their output).
 */
import type onnxProto from 'onnx-proto';
import { type Dim, DT, type GraphBuilder, intOf, type ModelProto } from '../graph.js';
import { floatArray } from './proto.js';

export interface Weight {
  dims: number[];
  data: Float32Array;
}

function valueInfo(name: string, type: number, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: type, shape: { dim } } } };
}

/** Makes the fp32 initializers `select` picks graph inputs of the same name and dims; returns their values. */
export function liftInitializers(model: ModelProto, select: (name: string) => boolean): Map<string, Weight> {
  const graph = model.graph ?? {};
  const inputs = graph.input ?? [];
  const lifted = new Map<string, Weight>();
  const kept: onnxProto.onnx.ITensorProto[] = [];
  for (const t of graph.initializer ?? []) {
    const name = t.name ?? '';
    if (t.dataType !== DT.FLOAT || !select(name)) {
      kept.push(t);
      continue;
    }
    const dims = (t.dims ?? []).map(intOf);
    lifted.set(name, { dims, data: floatArray(t) });
    inputs.push(valueInfo(name, DT.FLOAT, dims));
  }
  graph.initializer = kept;
  graph.input = inputs;
  return lifted;
}

/**
 * Makes `value` a graph input of `dims` and removes the node producing it;
 * the nodes only that node needed go at the next GraphBuilder.prune, the
 * inputs only they read at `dropUnusedInputs`.
 */
export function cutAt(model: ModelProto, value: string, dims: readonly Dim[], type: number = DT.FLOAT): void {
  const graph = model.graph ?? {};
  const at = (graph.node ?? []).findIndex((n) => (n.output ?? []).includes(value));
  if (at < 0) throw new Error(`cutAt: no node produces "${value}"`);
  graph.node!.splice(at, 1);
  graph.input = [...(graph.input ?? []), valueInfo(value, type, dims)];
}

/** Removes the graph inputs no node reads (after a cut and a prune; onnxruntime wants every declared input fed). */
export function dropUnusedInputs(g: GraphBuilder): string[] {
  const read = new Set((g.toGraph().node ?? []).flatMap((n) => n.input ?? []));
  const outputs = new Set(g.outputNames);
  const unused = g.inputNames.filter((name) => !read.has(name) && !outputs.has(name));
  for (const name of unused) g.removeInput(name);
  return unused;
}
