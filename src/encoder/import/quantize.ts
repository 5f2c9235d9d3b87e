/**
 * Dynamic int8 quantization of a linear layer's weights, for the importer's
 * int8 graph: the weights are stored int8 with one scale per output column
 * (symmetric, zero point 0), and onnxruntime's com.microsoft.DynamicQuantizeMatMul
 * quantizes the float activations per call (uint8, one scale per tensor),
 * multiplies in integers and scales the result back to float, bias added.
 */
import type { GraphBuilder } from '../../onnx/graph.js';

export interface QuantizedMatrix {
  /** [in, out], row-major, in [-127, 127]. */
  values: Int8Array;
  /** [out]: w ≈ values · scale of its column. */
  scales: Float32Array;
}

/**
 * Symmetric per-column quantization of an [rows, cols] (in, out) matrix:
 * scale = max|w| / 127 of each column, so every column uses the whole range
 * whatever the others hold (one scale per tensor lets the largest column
 * flatten the small ones). -128 is left out, keeping the range symmetric.
 */
export function quantizePerColumn(w: Float32Array, rows: number, cols: number): QuantizedMatrix {
  const scales = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[r * cols + c]!);
      if (a > scales[c]!) scales[c] = a;
    }
  }
  for (let c = 0; c < cols; c++) scales[c] = scales[c]! > 0 ? scales[c]! / 127 : 1;
  const values = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const q = Math.round(w[r * cols + c]! / scales[c]!);
      values[r * cols + c] = Math.max(-127, Math.min(127, q));
    }
  }
  return { values, scales };
}

/** x·W + b with W quantized per column: one DynamicQuantizeMatMul node. `name` prefixes the initializers. */
export function quantizedLinear(g: GraphBuilder, x: string, name: string, w: Float32Array, bias: Float32Array, inDim: number, outDim: number): string {
  const q = quantizePerColumn(w, inDim, outDim);
  g.useDomain('com.microsoft', 1);
  const inputs = [
    x,
    g.int8(`${name}.weight.int8`, [inDim, outDim], q.values),
    g.float(`${name}.weight.scale`, [outDim], q.scales),
    '',
    g.float(`${name}.bias`, [outDim], bias),
  ];
  return g.node('DynamicQuantizeMatMul', inputs, {}, 'com.microsoft');
}
