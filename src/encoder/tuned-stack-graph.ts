/**
 * A fine-tuned version's tuned layers as a graph of their own, what an
 * encoder worker runs after the shared pass: the shared encoder's hidden
 * state `first` in, the state after layer `last` out, the weights baked in
 * (addEncoderLayers from the stack's tensors).
 *
 *   inputs   state            float32 [rows, width, hidden]   hidden state `first`, laid out as the shared pass ran it
 *            attention_mask   int64 [rows, width]             sequence numbers, as the shared graph reads them
 *   output   hidden           float32 [rows, width, hidden]
 */
import { DT, GraphBuilder } from '../onnx/graph.js';
import { sequenceMask } from './import/attention.js';
import { type AttentionKind, addEncoderLayers, type LayerDims } from './import/layer-stack.js';
import { type TunedStack, tunedStackSource } from './tuned-stack.js';

export const STACK_INPUT = 'state';
export const STACK_MASK = 'attention_mask';
export const STACK_OUTPUT = 'hidden';

/** `attention`: fused (onnxruntime's kernel, as the imported graph serves) or standard (plain operators). */
export function tunedStackGraph(stack: TunedStack, dims: LayerDims, attention: AttentionKind = 'fused'): Uint8Array {
  const g = new GraphBuilder('tuned_stack', 17);
  const H = dims.hidden_size;
  const state = g.input(STACK_INPUT, DT.FLOAT, ['rows', 'width', H]);
  const mask = g.input(STACK_MASK, DT.INT64, ['rows', 'width']);
  const { states } = addEncoderLayers(g, {
    dims,
    first: stack.first,
    last: stack.last,
    input: state,
    attends: sequenceMask(g, mask).attends,
    weights: { from: 'checkpoint', tensor: tunedStackSource(stack), attention },
  });
  g.output(STACK_OUTPUT, states.at(-1)!, DT.FLOAT, ['rows', 'width', H]);
  return g.encode('transferd');
}
