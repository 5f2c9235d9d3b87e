/**
 * Reading what the differentiator needs out of ONNX messages: a node's
 * attributes with their defaults, and the numbers in a tensor (an
 * initializer or a Constant's value), whichever field the writer used.
 */
import type onnxProto from 'onnx-proto';
import { DT, intOf, type NodeProto } from '../graph.js';

type TensorProto = onnxProto.onnx.ITensorProto;

function attribute(node: NodeProto, name: string) {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? intOf(a.i) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a ? (a.ints ?? []).map(intOf) : undefined;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? (a.f ?? 0) : fallback;
}

export function attrTensor(node: NodeProto, name: string): TensorProto | undefined {
  return attribute(node, name)?.t ?? undefined;
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return attribute(node, name) !== undefined;
}

/** A tensor's values as numbers (int64 through Number: shapes and indices, never beyond 2^53), or undefined for a type this does not read. */
export function tensorValues(t: TensorProto): number[] | undefined {
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  // Copy: rawData may sit at an offset no typed array of the element's size can start at.
  const bytes = raw ? Uint8Array.from(raw).buffer : undefined;
  switch (t.dataType) {
    case DT.FLOAT:
      return bytes ? Array.from(new Float32Array(bytes)) : [...(t.floatData ?? [])];
    case DT.DOUBLE:
      return bytes ? Array.from(new Float64Array(bytes)) : [...(t.doubleData ?? [])];
    case DT.INT64:
      return bytes ? Array.from(new BigInt64Array(bytes), Number) : (t.int64Data ?? []).map(intOf);
    case DT.INT32:
      return bytes ? Array.from(new Int32Array(bytes)) : [...(t.int32Data ?? [])];
    case DT.BOOL:
    case DT.UINT8:
      return bytes ? Array.from(new Uint8Array(bytes)) : [...(t.int32Data ?? [])];
    default:
      return undefined;
  }
}

/** The float element types the differentiator carries gradients in. */
export function isFloatType(type: number | undefined): boolean {
  return type === DT.FLOAT || type === DT.DOUBLE || type === DT.FLOAT16;
}

/** An fp32 tensor's values (raw bytes or float_data). */
export function floatArray(t: TensorProto): Float32Array {
  if (t.dataType !== DT.FLOAT) throw new Error(`tensor ${t.name}: fp32 expected, got type ${t.dataType}`);
  if (t.rawData && t.rawData.length > 0) return new Float32Array(Uint8Array.from(t.rawData).buffer);
  return Float32Array.from(t.floatData ?? []);
}

/** A one-element zero tensor of float type `type`, for ConstantOfShape. */
export function zeroTensor(type: number): TensorProto {
  const bytes = type === DT.DOUBLE ? 8 : type === DT.FLOAT16 ? 2 : 4;
  return { dataType: type, dims: [1], rawData: new Uint8Array(bytes) };
}
