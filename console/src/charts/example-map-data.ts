/** The 2-D map's points grouped into one series per label, with the misclassified ones told apart. Pure. */
import type { MapPoint } from '../api/responses.js';

/** Held out and predicted as another label. A point never held out has no prediction and is not counted as either. */
export const isMisclassified = (p: MapPoint) => p.predicted !== null && p.predicted !== p.label;

export interface MapGroup {
  label: string;
  points: MapPoint[];
}

/** One group per label, labels in alphabetical order so that colours stay put between versions. */
export function groupByLabel(points: MapPoint[]): MapGroup[] {
  const groups = new Map<string, MapPoint[]>();
  for (const p of points) {
    const g = groups.get(p.label);
    if (g) g.push(p);
    else groups.set(p.label, [p]);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([label, pts]) => ({ label, points: pts }));
}

export function mapSummary(points: MapPoint[]): { shown: number; misclassified: number; notHeldOut: number } {
  let misclassified = 0;
  let notHeldOut = 0;
  for (const p of points) {
    if (p.predicted === null) notHeldOut++;
    else if (p.predicted !== p.label) misclassified++;
  }
  return { shown: points.length, misclassified, notHeldOut };
}
