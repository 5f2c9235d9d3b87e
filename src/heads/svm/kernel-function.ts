/**
 * Kernels as libsvm defines them:
 *
 *   linear  u·v
 *   rbf     exp(-gamma‖u−v‖²)
 *   poly    (gamma u·v + coef0)^degree
 *
 * Every kernel here is a function of u·v, ‖u‖² and ‖v‖², so a dot-product
 * Gram matrix (computed once by fast matrix code) yields any kernel value.
 * Training and prediction both use this; the sources of kernel values the
 * solver reads are in ./kernel.ts.
 */
export type KernelType = 'linear' | 'rbf' | 'poly';

export interface KernelParams {
  kernel: KernelType;
  gamma: number;
  degree: number;
  coef0: number;
}

/** The kernel value from a dot product and the two squared norms. */
export function kernelFromDot(p: KernelParams, uv: number, uu: number, vv: number): number {
  switch (p.kernel) {
    case 'linear':
      return uv;
    case 'rbf':
      // Float rounding can make ‖u−v‖² slightly negative for (near-)duplicate rows.
      return Math.exp(-p.gamma * Math.max(0, uu + vv - 2 * uv));
    case 'poly':
      return powi(p.gamma * uv + p.coef0, p.degree);
  }
}

/** libsvm's powi: repeated squaring, so integer degrees match it bit for bit. */
export function powi(base: number, times: number): number {
  let tmp = base;
  let ret = 1;
  for (let t = times; t > 0; t = Math.floor(t / 2)) {
    if (t % 2 === 1) ret *= tmp;
    tmp *= tmp;
  }
  return ret;
}
