/**
 * The libsvm model text (svm_save_model / svm_load_model, 3.22), as
 * libsvm-js's serializeModel() writes it and SVM.load() reads it:
 *
 *   svm_type c_svc
 *   kernel_type rbf            (linear | polynomial | rbf)
 *   degree 3                   (polynomial only)
 *   gamma 0.5                  (polynomial, rbf)
 *   coef0 0                    (polynomial only)
 *   nr_class 3
 *   total_sv 6
 *   rho r01 r02 r12            (one per pair)
 *   label 0 1 2
 *   probA a01 a02 a12          (only with probability estimates)
 *   probB b01 b02 b12
 *   nr_sv 2 2 2
 *   SV
 *   c1 c2 1:v1 2:v2 …          (nr_class−1 coefficients, then 1-based index:value)
 *
 * libsvm writes rho/gamma/probA/probB with %g (6 digits), coefficients with
 * %.16g and features with %.8g. We write doubles with their shortest exact
 * form and features with 9 digits (exact for float32), so a model reloaded
 * from its text predicts exactly as the model in memory; libsvm reads the
 * extra digits with %lf. Every feature is written, zeros included, as
 * libsvm-js does.
 *
 * libsvm-js's SVM.load() copies the text onto emscripten's 5 MB stack, so
 * it fails ("memory access out of bounds") on texts over ~5 MB, e.g. a
 * Banking77-sized RBF model (≈ 6,400 SVs × 384 features, 46 MB), whoever
 * wrote the text. Our parser has no such limit.
 */
import type { KernelType } from './kernel-function.js';
import { type SvmModel, pairCount, totalSv } from './model.js';

const KERNEL_NAMES: Record<KernelType, string> = { linear: 'linear', rbf: 'rbf', poly: 'polynomial' };

export function writeModelText(m: SvmModel): string {
  const k = m.labels.length;
  const total = totalSv(m);
  const head: string[] = ['svm_type c_svc', `kernel_type ${KERNEL_NAMES[m.kernel.kernel]}`];
  if (m.kernel.kernel === 'poly') head.push(`degree ${m.kernel.degree}`);
  if (m.kernel.kernel !== 'linear') head.push(`gamma ${fmt(m.kernel.gamma)}`);
  if (m.kernel.kernel === 'poly') head.push(`coef0 ${fmt(m.kernel.coef0)}`);
  head.push(`nr_class ${k}`, `total_sv ${total}`);
  head.push(`rho ${[...m.rho].map(fmt).join(' ')}`);
  head.push(`label ${[...m.labels].join(' ')}`);
  if (m.probA && m.probB) {
    head.push(`probA ${[...m.probA].map(fmt).join(' ')}`);
    head.push(`probB ${[...m.probB].map(fmt).join(' ')}`);
  }
  head.push(`nr_sv ${[...m.nSV].join(' ')}`, 'SV');

  const lines = [head.join('\n')];
  const dim = m.dim;
  for (let s = 0; s < total; s++) {
    const parts: string[] = [];
    for (let c = 0; c < k - 1; c++) parts.push(fmt(m.svCoef[c * total + s]!));
    for (let d = 0; d < dim; d++) parts.push(`${d + 1}:${fmt32(m.sv[s * dim + d]!)}`);
    // libsvm ends every value with a space, the line included.
    lines.push(`${parts.join(' ')} `);
  }
  return `${lines.join('\n')}\n`;
}

/** Shortest text that reads back as the same double. */
function fmt(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`cannot write non-finite value ${v} into a libsvm model`);
  return String(v);
}

/** Nine significant digits, enough to read back as the same float32; trailing zeros dropped. */
function fmt32(v: number): string {
  if (Number.isInteger(v)) return String(v === 0 ? 0 : v);
  const s = v.toPrecision(9);
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  return e < 0 ? trimmed : trimmed + s.slice(e);
}

export function parseModelText(text: string): SvmModel {
  const lines = text.split('\n');
  const header = new Map<string, string[]>();
  let line = 0;
  for (; line < lines.length; line++) {
    const t = lines[line]!.trim();
    if (t === 'SV') break;
    if (t === '') continue;
    const [key, ...values] = t.split(/\s+/);
    header.set(key!, values);
  }
  if (line >= lines.length) throw new Error('libsvm model: no SV section');

  const one = (key: string): string => {
    const v = header.get(key);
    if (v?.length !== 1) throw new Error(`libsvm model: missing or malformed "${key}"`);
    return v[0]!;
  };
  const numbers = (key: string, count: number): Float64Array => {
    const v = header.get(key);
    if (!v || v.length !== count) throw new Error(`libsvm model: "${key}" needs ${count} values`);
    return Float64Array.from(v, (s) => parseNumber(s, key));
  };

  if (one('svm_type') !== 'c_svc') throw new Error(`libsvm model: svm_type ${one('svm_type')} is not supported (c_svc only)`);
  const kernelName = one('kernel_type');
  const kernel = (Object.keys(KERNEL_NAMES) as KernelType[]).find((t) => KERNEL_NAMES[t] === kernelName);
  if (!kernel) throw new Error(`libsvm model: kernel_type ${kernelName} is not supported`);
  const k = parseInteger(one('nr_class'), 'nr_class');
  const total = parseInteger(one('total_sv'), 'total_sv');
  const pairs = pairCount(k);
  const labels = Int32Array.from(numbers('label', k));
  const nSV = Int32Array.from(numbers('nr_sv', k));
  if (nSV.reduce((a, b) => a + b, 0) !== total) throw new Error('libsvm model: nr_sv does not add up to total_sv');
  const hasProb = header.has('probA') && header.has('probB');

  const svLines = lines.slice(line + 1).filter((l) => l.trim() !== '');
  if (svLines.length !== total) throw new Error(`libsvm model: ${svLines.length} SV lines for total_sv ${total}`);
  const { sv, svCoef, dim } = parseSvSection(svLines, k - 1);

  return {
    kernel: {
      kernel,
      gamma: header.has('gamma') ? parseNumber(one('gamma'), 'gamma') : 0,
      degree: header.has('degree') ? parseInteger(one('degree'), 'degree') : 3,
      coef0: header.has('coef0') ? parseNumber(one('coef0'), 'coef0') : 0,
    },
    labels,
    nSV,
    dim,
    sv,
    svCoef,
    rho: numbers('rho', pairs),
    probA: hasProb ? numbers('probA', pairs) : null,
    probB: hasProb ? numbers('probB', pairs) : null,
  };
}

/** SV lines → dense SVs (dim = the largest feature index) and coefficients in sv_coef layout. */
function parseSvSection(svLines: string[], coefRows: number): { sv: Float32Array; svCoef: Float64Array; dim: number } {
  const total = svLines.length;
  const svCoef = new Float64Array(coefRows * total);
  const sparse: Array<{ index: Int32Array; value: Float64Array }> = [];
  let dim = 0;
  svLines.forEach((l, s) => {
    const tokens = l.trim().split(/\s+/);
    if (tokens.length < coefRows) throw new Error(`libsvm model: SV ${s} has too few coefficients`);
    for (let c = 0; c < coefRows; c++) svCoef[c * total + s] = parseNumber(tokens[c]!, 'sv_coef');
    const count = tokens.length - coefRows;
    const index = new Int32Array(count);
    const value = new Float64Array(count);
    for (let t = 0; t < count; t++) {
      const tok = tokens[coefRows + t]!;
      const colon = tok.indexOf(':');
      if (colon < 0) throw new Error(`libsvm model: SV ${s}: "${tok}" is not index:value`);
      const i = parseInteger(tok.slice(0, colon), 'feature index');
      if (i < 1) throw new Error(`libsvm model: SV ${s}: feature indices start at 1`);
      index[t] = i;
      value[t] = parseNumber(tok.slice(colon + 1), 'feature value');
      if (i > dim) dim = i;
    }
    sparse.push({ index, value });
  });
  const sv = new Float32Array(total * dim);
  sparse.forEach(({ index, value }, s) => {
    for (let t = 0; t < index.length; t++) sv[s * dim + index[t]! - 1] = value[t]!;
  });
  return { sv, svCoef, dim };
}

function parseNumber(s: string, what: string): number {
  const v = Number(s);
  if (s === '' || !Number.isFinite(v)) throw new Error(`libsvm model: bad ${what} "${s}"`);
  return v;
}

function parseInteger(s: string, what: string): number {
  const v = parseNumber(s, what);
  if (!Number.isInteger(v)) throw new Error(`libsvm model: ${what} "${s}" is not an integer`);
  return v;
}
