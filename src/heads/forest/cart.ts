/**
 * CART classification trees grown the way scikit-learn grows a random
 * forest's trees: Gini impurity, a fresh random subset of `maxFeatures`
 * candidate features at every node, thresholds halfway between neighbouring
 * distinct values, and a bootstrap sample held as integer row weights rather
 * than duplicated rows.
 *
 * Split search sorts only the candidate features of the node being split,
 * as single float64 keys that carry both value and position; the node's rows are partitioned in place, so growing a tree allocates
 * nothing proportional to the data beyond its output.
 */
import type { Dataset } from '../dataset.js';
import type { Rng } from '../rng.js';

/** Sort keys keep a row's position within its node in these low mantissa bits. */
const POSITION_BITS = 29;
const POSITION_MASK = 2 ** POSITION_BITS - 1;
export const MAX_ROWS = 2 ** POSITION_BITS;
/** Index of a double's low 32-bit word in a Uint32Array view of it. */
const LOW_WORD = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 0 : 1;

/** Training data laid out for split search: one contiguous column per feature. */
export interface Columns {
  /** dim × n, column-major: feature f of row i sits at f * n + i. */
  xT: Float32Array;
  n: number;
  dim: number;
  y: Int32Array;
  classes: number;
}

export function toColumns(data: Dataset): Columns {
  const { x, n, dim } = data;
  if (n > MAX_ROWS) throw new RangeError(`a forest trains on at most ${MAX_ROWS} rows, got ${n}`);
  const xT = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < dim; f++) {
      const v = x[i * dim + f]!;
      if (!Number.isFinite(v)) throw new RangeError(`feature ${f} of row ${i} is not finite`);
      xT[f * n + i] = v;
    }
  }
  return { xT, n, dim, y: data.y, classes: data.classes };
}

/** Growth limits of one tree; see ResolvedForestParams for their meanings. */
export interface TreeParams {
  maxFeatures: number;
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  bootstrap: boolean;
}

/**
 * A grown tree as flat arrays, nodes in preorder (0 = root). Plain data, so
 * it crosses worker boundaries by structured clone.
 */
export interface FlatTree {
  /** Split feature, or -1 at a leaf. */
  feature: Int32Array;
  /** Rows with x[feature] < threshold go left: ml-cart's rule. */
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** Gini gain of the split (ml-cart's `gain`); 0 at leaves. */
  gain: Float64Array;
  /** Bootstrap-weighted number of training rows reaching the node. */
  weight: Int32Array;
  /** Leaf class counts, sparse: node i owns entries countStart[i] .. countStart[i + 1]. */
  countStart: Int32Array;
  countClass: Int32Array;
  count: Int32Array;
}

/** Growing nodes; typed arrays are made once the size is known. */
class NodeLists {
  feature: number[] = [];
  threshold: number[] = [];
  left: number[] = [];
  right: number[] = [];
  gain: number[] = [];
  weight: number[] = [];
  countStart: number[] = [];
  countClass: number[] = [];
  count: number[] = [];

  /** Appends a node (a leaf until `setSplit`) and links it to its parent. */
  add(parent: number, isLeft: boolean, weight: number): number {
    const id = this.feature.length;
    this.feature.push(-1);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.gain.push(0);
    this.weight.push(weight);
    this.countStart.push(this.count.length);
    if (parent >= 0) (isLeft ? this.left : this.right)[parent] = id;
    return id;
  }

  setSplit(node: number, feature: number, threshold: number, gain: number): void {
    this.feature[node] = feature;
    this.threshold[node] = threshold;
    this.gain[node] = gain;
  }

  /** Leaf counts must be added right after the leaf itself: nodes are numbered in preorder. */
  addCounts(classCount: Float64Array): void {
    for (let c = 0; c < classCount.length; c++) {
      if (classCount[c]! > 0) {
        this.countClass.push(c);
        this.count.push(classCount[c]!);
      }
    }
  }

  finish(): FlatTree {
    return {
      feature: Int32Array.from(this.feature),
      threshold: Float64Array.from(this.threshold),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      gain: Float64Array.from(this.gain),
      weight: Int32Array.from(this.weight),
      countStart: Int32Array.from([...this.countStart, this.count.length]),
      countClass: Int32Array.from(this.countClass),
      count: Int32Array.from(this.count),
    };
  }
}

/** Grows trees on one data set, reusing its scratch buffers from tree to tree. */
export class TreeBuilder {
  private readonly cols: Columns;
  private readonly params: TreeParams;
  /** Bootstrap multiplicity of each training row. */
  private readonly rowWeight: Int32Array;
  /** Rows in the sample; each node owns a contiguous range, partitioned in place. */
  private readonly rows: Int32Array;
  /** One candidate feature's values at the node, by position in the node's range. */
  private readonly values: Float32Array;
  /** Class and bootstrap weight of each position in the node's range. */
  private readonly classAt: Int32Array;
  private readonly weightAt: Int32Array;
  /** Sort keys packing value and position (see sortPositions), and their 32-bit words. */
  private readonly keys: Float64Array;
  private readonly keyWords: Uint32Array;
  /** Positions in the node's range, sorted by the candidate feature's value. */
  private readonly order: Int32Array;
  /** Radix sort scratch: order-preserving integer keys of the values, and the other half of each pass. */
  private readonly radixKeys: Uint32Array;
  private readonly radixSwapKeys: Uint32Array;
  private readonly radixSwapOrder: Int32Array;
  private readonly radixCounts = new Int32Array(RADIX_BUCKETS);
  private readonly classCount: Float64Array;
  private readonly leftCount: Float64Array;
  /** Permutation of the features; its prefix is each node's candidate draw. */
  private readonly featurePerm: Int32Array;

  private bestProxy = -Infinity;
  private bestFeature = -1;
  private bestThreshold = 0;

  constructor(cols: Columns, params: TreeParams) {
    this.cols = cols;
    this.params = params;
    const { n, dim, classes } = cols;
    this.rowWeight = new Int32Array(n);
    this.rows = new Int32Array(n);
    this.values = new Float32Array(n);
    this.classAt = new Int32Array(n);
    this.weightAt = new Int32Array(n);
    this.keys = new Float64Array(n);
    this.keyWords = new Uint32Array(this.keys.buffer);
    this.order = new Int32Array(n);
    this.radixKeys = new Uint32Array(n);
    this.radixSwapKeys = new Uint32Array(n);
    this.radixSwapOrder = new Int32Array(n);
    this.classCount = new Float64Array(classes);
    this.leftCount = new Float64Array(classes);
    this.featurePerm = new Int32Array(dim);
  }

  grow(rng: Rng): FlatTree {
    // The draw permutes featurePerm in place; restart from the identity so a
    // tree does not depend on the trees grown before it.
    for (let f = 0; f < this.featurePerm.length; f++) this.featurePerm[f] = f;
    const nodes = new NodeLists();
    // Depth-first with the left child on top, so ids come out in preorder.
    // Stack frames: parent id, 1 if left child, range start, range end, depth.
    const stack = [-1, 0, 0, this.drawSample(rng), 0];
    while (stack.length > 0) {
      const depth = stack.pop()!;
      const end = stack.pop()!;
      const start = stack.pop()!;
      const isLeft = stack.pop()! === 1;
      const parent = stack.pop()!;
      const { weight, sumSq, pure } = this.countClasses(start, end);
      const node = nodes.add(parent, isLeft, weight);
      if (pure || !this.splittable(end - start, depth) || !this.findSplit(start, end, weight, sumSq, rng)) {
        nodes.addCounts(this.classCount);
        continue;
      }
      // Gini gain = parent impurity − weighted child impurity, from the proxy sums.
      const gain = (this.bestProxy - sumSq / weight) / weight;
      nodes.setSplit(node, this.bestFeature, this.bestThreshold, gain);
      const mid = this.partition(start, end, this.bestFeature, this.bestThreshold);
      stack.push(node, 0, mid, end, depth + 1, node, 1, start, mid, depth + 1);
    }
    return nodes.finish();
  }

  /** Fills rows/rowWeight with the tree's sample; returns the number of distinct rows. */
  private drawSample(rng: Rng): number {
    const { n } = this.cols;
    const rowWeight = this.rowWeight;
    if (this.params.bootstrap) {
      rowWeight.fill(0);
      for (let i = 0; i < n; i++) rowWeight[rng.below(n)]!++;
    } else {
      rowWeight.fill(1);
    }
    let m = 0;
    for (let i = 0; i < n; i++) if (rowWeight[i]! > 0) this.rows[m++] = i;
    return m;
  }

  /** Fills classCount for a node's range. */
  private countClasses(start: number, end: number): { weight: number; sumSq: number; pure: boolean } {
    const { rows, rowWeight, classCount } = this;
    const y = this.cols.y;
    classCount.fill(0);
    let weight = 0;
    for (let i = start; i < end; i++) {
      const row = rows[i]!;
      classCount[y[row]!]! += rowWeight[row]!;
      weight += rowWeight[row]!;
    }
    let sumSq = 0;
    let present = 0;
    for (let c = 0; c < classCount.length; c++) {
      sumSq += classCount[c]! * classCount[c]!;
      if (classCount[c]! > 0) present++;
    }
    return { weight, sumSq, pure: present <= 1 };
  }

  /** scikit-learn's stopping rules, counting distinct rows as it does. */
  private splittable(rowsInNode: number, depth: number): boolean {
    const { minSamplesSplit, minSamplesLeaf, maxDepth } = this.params;
    return depth < maxDepth && rowsInNode >= minSamplesSplit && rowsInNode >= 2 * minSamplesLeaf;
  }

  /**
   * Searches `maxFeatures` random features for the best split, drawing more
   * while every feature drawn so far is constant on the node (as scikit-learn
   * does). Returns false when no valid split exists.
   */
  private findSplit(start: number, end: number, weight: number, sumSq: number, rng: Rng): boolean {
    const { dim } = this.cols;
    const perm = this.featurePerm;
    this.bestProxy = -Infinity;
    this.gatherClassesAndWeights(start, end);
    let sawVarying = false;
    for (let k = 0; k < dim && (k < this.params.maxFeatures || !sawVarying); k++) {
      const pick = k + rng.below(dim - k);
      const feature = perm[pick]!;
      perm[pick] = perm[k]!;
      perm[k] = feature;
      if (!this.gather(feature, start, end)) continue;
      sawVarying = true;
      this.sortPositions(end - start);
      this.scan(feature, end - start, weight, sumSq);
    }
    return this.bestProxy > -Infinity;
  }

  /** Copies each node row's class and weight to its position, for the scans. */
  private gatherClassesAndWeights(start: number, end: number): void {
    const { rows, rowWeight, classAt, weightAt } = this;
    const y = this.cols.y;
    for (let i = start; i < end; i++) {
      classAt[i - start] = y[rows[i]!]!;
      weightAt[i - start] = rowWeight[rows[i]!]!;
    }
  }

  /** Copies a feature's values at the node into `values`; false if they are all equal. */
  private gather(feature: number, start: number, end: number): boolean {
    const { xT, n } = this.cols;
    const { rows, values } = this;
    const base = feature * n;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < end; i++) {
      const v = xT[base + rows[i]!]!;
      values[i - start] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return hi > lo;
  }

  /**
   * Sorts positions 0..m-1 by value. A float32 widened to a double leaves the
   * low 29 mantissa bits zero; writing the position there makes distinct keys
   * that still order by value, so one plain numeric sort orders (value,
   * position) pairs and the position is read back from the same bits.
   */
  private sortPositions(m: number): void {
    if (m >= RADIX_MIN) {
      this.radixSortPositions(m);
      return;
    }
    const { values, keys, keyWords, order } = this;
    for (let p = 0; p < m; p++) {
      keys[p] = values[p]!;
      keyWords[2 * p + LOW_WORD]! |= p;
    }
    sortKeys(keys, 0, m);
    for (let p = 0; p < m; p++) order[p] = keyWords[2 * p + LOW_WORD]! & POSITION_MASK;
  }

  /**
   * The same ordering for large nodes, by a stable LSD radix sort (four
   * RADIX_BITS = 8-bit digits, a pass skipped when every key shares its digit)
   * of the values' float32 bits mapped to unsigned integers
   * that order as the floats do: linear time, where the comparison sort is
   * the forest's main cost. Equal values may come out in another order than
   * sortPositions' keys give them, which changes nothing: scan only splits
   * between distinct values, and its sums over integer weights are exact.
   */
  private radixSortPositions(m: number): void {
    const bits = new Uint32Array(this.values.buffer, this.values.byteOffset, m);
    let keys = this.radixKeys;
    let order = this.order;
    let swapKeys = this.radixSwapKeys;
    let swapOrder = this.radixSwapOrder;
    for (let p = 0; p < m; p++) {
      const u = bits[p]!;
      // Negative floats order in reverse of their bits: flip them all; positive ones only gain the top bit.
      keys[p] = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
      order[p] = p;
    }
    const counts = this.radixCounts;
    for (let shift = 0; shift < 32; shift += RADIX_BITS) {
      counts.fill(0);
      for (let p = 0; p < m; p++) counts[(keys[p]! >>> shift) & RADIX_MASK]!++;
      if (counts[(keys[0]! >>> shift) & RADIX_MASK] === m) continue; // one digit for all: the pass would not move anything
      let sum = 0;
      for (let d = 0; d < RADIX_BUCKETS; d++) {
        const c = counts[d]!;
        counts[d] = sum;
        sum += c;
      }
      for (let p = 0; p < m; p++) {
        const k = keys[p]!;
        const dst = counts[(k >>> shift) & RADIX_MASK]!++;
        swapKeys[dst] = k;
        swapOrder[dst] = order[p]!;
      }
      [keys, swapKeys] = [swapKeys, keys];
      [order, swapOrder] = [swapOrder, order];
    }
    if (order !== this.order) this.order.set(order.subarray(0, m));
  }

  /**
   * Scores every threshold between distinct neighbouring values by the Gini
   * proxy sumSq(left)/w(left) + sumSq(right)/w(right) (larger is better), kept
   * up to date in O(1) per row as rows move from right to left.
   */
  private scan(feature: number, m: number, weight: number, sumSq: number): void {
    const { classAt, weightAt, values, order, classCount, leftCount } = this;
    const minLeaf = this.params.minSamplesLeaf;
    leftCount.fill(0);
    let leftWeight = 0;
    let leftSq = 0;
    let rightSq = sumSq;
    // After position p the left side holds p + 1 rows; both sides need minLeaf.
    for (let p = 0; p < m - minLeaf; p++) {
      const pos = order[p]!;
      const w = weightAt[pos]!;
      const c = classAt[pos]!;
      const inLeft = leftCount[c]!;
      const inRight = classCount[c]! - inLeft;
      leftSq += w * (2 * inLeft + w);
      rightSq -= w * (2 * inRight - w);
      leftCount[c] = inLeft + w;
      leftWeight += w;
      if (p + 1 < minLeaf) continue;
      const v = values[pos]!;
      const next = values[order[p + 1]!]!;
      if (!(next > v)) continue;
      const proxy = leftSq / leftWeight + rightSq / (weight - leftWeight);
      if (proxy > this.bestProxy) {
        this.bestProxy = proxy;
        this.bestFeature = feature;
        // Exact in a double and strictly between two distinct floats.
        this.bestThreshold = (v + next) / 2;
      }
    }
  }

  /** Moves the range's rows with x[feature] < threshold to its front; returns the boundary. */
  private partition(start: number, end: number, feature: number, threshold: number): number {
    const { xT, n } = this.cols;
    const rows = this.rows;
    const base = feature * n;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if (xT[base + rows[i]!]! < threshold) {
        i++;
      } else {
        const row = rows[i]!;
        rows[i] = rows[j]!;
        rows[j--] = row;
      }
    }
    return i;
  }
}

/** Nodes this large sort by radix (see radixSortPositions); smaller ones by comparisons. */
const RADIX_MIN = 512;
const RADIX_BITS = 8;
const RADIX_BUCKETS = 1 << RADIX_BITS;
const RADIX_MASK = RADIX_BUCKETS - 1;

/** Below this length insertion sort beats partitioning. */
const INSERTION_SORT_MAX = 16;

/**
 * Sorts keys[lo, hi) ascending: quicksort with median-of-three pivots,
 * recursing into the smaller side. Keys are distinct (they embed positions).
 * Measured about twice as fast as Float64Array#sort on node-sized arrays.
 */
function sortKeys(keys: Float64Array, lo: number, hi: number): void {
  while (hi - lo > INSERTION_SORT_MAX) {
    const pivot = medianOfThree(keys[lo]!, keys[(lo + hi) >>> 1]!, keys[hi - 1]!);
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      while (keys[i]! < pivot) i++;
      while (keys[j]! > pivot) j--;
      if (i <= j) {
        const t = keys[i]!;
        keys[i++] = keys[j]!;
        keys[j--] = t;
      }
    }
    if (j - lo < hi - i) {
      sortKeys(keys, lo, j + 1);
      lo = i;
    } else {
      sortKeys(keys, i, hi);
      hi = j + 1;
    }
  }
  for (let i = lo + 1; i < hi; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= lo && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

function medianOfThree(a: number, b: number, c: number): number {
  if (a < b) return b < c ? b : Math.max(a, c);
  return a < c ? a : Math.max(b, c);
}
