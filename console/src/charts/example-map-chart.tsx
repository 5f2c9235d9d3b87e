/**
 * The task's examples on the first two principal components of the features
 * the version was trained on: one colour per label, misclassified examples
 * (their out-of-fold prediction is another label) drawn as outlined
 * triangles, the text on hover.
 */
import { useMemo } from 'preact/hooks';
import type { ExampleMap, MapPoint } from '../api/responses.js';
import { escapeHtml, pct } from '../format.js';
import { Chart } from './chart.js';
import { type ChartOption, grid } from './echarts.js';
import { groupByLabel, isMisclassified } from './example-map-data.js';

function tooltip(p: MapPoint): string {
  const outcome = p.predicted === null ? 'never held out' : p.predicted === p.label ? 'predicted correctly' : `predicted <b>${escapeHtml(p.predicted)}</b>`;
  const text = p.text === null ? '<i>deleted since</i>' : escapeHtml(p.text);
  return `<div class="map-tip">${text}</div>label <b>${escapeHtml(p.label)}</b> · ${outcome}<br>example ${p.example_id}`;
}

export function ExampleMapChart({ map }: { map: ExampleMap }) {
  const option = useMemo((): ChartOption => {
    const groups = groupByLabel(map.points);
    const [pc1 = 0, pc2 = 0] = map.explained_variance_ratio;
    return {
      animation: false,
      tooltip: { trigger: 'item', confine: true },
      legend: { type: 'scroll', top: 0 },
      grid: grid({ top: 50, right: 30 }),
      xAxis: { type: 'value', scale: true, name: `PC1 (${pct(pc1)} of variance)`, nameLocation: 'middle', nameGap: 30 },
      yAxis: { type: 'value', scale: true, name: `PC2 (${pct(pc2)} of variance)`, nameLocation: 'middle', nameGap: 45 },
      series: groups.map((g) => ({
        type: 'scatter' as const,
        name: g.label,
        data: g.points.map((p) =>
          isMisclassified(p)
            ? { value: [p.x, p.y], symbol: 'triangle', symbolSize: 12, itemStyle: { borderColor: '#000', borderWidth: 1.2 } }
            : { value: [p.x, p.y], symbol: 'circle', symbolSize: 7, itemStyle: { opacity: 0.75 } },
        ),
        tooltip: { formatter: (params: { dataIndex: number }) => tooltip(g.points[params.dataIndex]!) },
      })),
    };
  }, [map]);
  return <Chart option={option} testId="example-map" height={620} label={`Map of ${map.points.length} examples coloured by label`} />;
}
