/** [from, to) ranges splitting 0..n into at most `parts` contiguous, nearly equal, non-empty pieces (one piece when n is 0). */
export function evenRanges(n: number, parts: number): Array<[number, number]> {
  const k = Math.max(1, Math.min(parts, n));
  return Array.from({ length: k }, (_, i) => [Math.round((i * n) / k), Math.round(((i + 1) * n) / k)]);
}
