/** How numbers and times read on the pages. Pure. */

/** 0.934 → "93.4 %". */
export const pct = (fraction: number, digits = 1) => `${(fraction * 100).toFixed(digits)} %`;

/** A score in [0, 1] to three decimals: macro-F1 differences that matter are often in the third. */
export const score = (x: number) => x.toFixed(3);

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

/** Accuracy, or on a multi-label task subset accuracy (examples whose whole label set is right): the scores that count whole answers. */
export const accuracyOf = (s: { accuracy?: number; subset_accuracy?: number }) => s.accuracy ?? s.subset_accuracy ?? 0;

/** Parameters as `C=10, kernel=rbf`: short enough for a table cell. */
export const params = (p: unknown) =>
  p && typeof p === 'object'
    ? Object.entries(p as Record<string, unknown>)
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(', ')
    : String(p ?? '');

/** A feature spec's layers and how they are combined: "layer 6", "layers 4+5+6 (concat)". */
export function layersName(spec: { layers: number[]; layer_combine: string }): string {
  if (spec.layers.length === 1) return spec.layers[0] === 0 ? 'layer 0 (embeddings)' : `layer ${spec.layers[0]}`;
  return `layers ${spec.layers.join('+')} (${spec.layer_combine})`;
}

/** Text for a chart tooltip, which ECharts renders as HTML: example texts are whatever a client uploaded. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
