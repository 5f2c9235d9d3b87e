/** Precision, recall and F1 of every label as grouped bars. */
import { useMemo } from 'preact/hooks';
import type { PerLabel } from '../api/responses.js';
import { Chart } from './chart.js';
import { type ChartOption, grid } from './echarts.js';

/** More labels than this get a slider to scroll through them. */
const VISIBLE_LABELS = 30;

export function PerLabelBars({ perLabel }: { perLabel: PerLabel[] }) {
  const option = useMemo((): ChartOption => {
    const labels = perLabel.map((p) => p.label);
    const many = labels.length > VISIBLE_LABELS;
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v) => Number(v).toFixed(3) },
      legend: { top: 0 },
      grid: grid({ top: 40, bottom: many ? 50 : 10 }),
      xAxis: {
        type: 'category',
        data: labels,
        name: 'label',
        nameLocation: 'middle',
        nameGap: labels.length > 8 ? 70 : 30,
        axisLabel: { interval: 0, rotate: labels.length > 8 ? 45 : 0 },
      },
      yAxis: { type: 'value', min: 0, max: 1, name: 'score', nameLocation: 'middle', nameGap: 40 },
      dataZoom: many ? [{ type: 'slider', start: 0, end: (100 * VISIBLE_LABELS) / labels.length }] : [],
      series: [
        { type: 'bar', name: 'precision', data: perLabel.map((p) => p.precision) },
        { type: 'bar', name: 'recall', data: perLabel.map((p) => p.recall) },
        { type: 'bar', name: 'F1', data: perLabel.map((p) => p.f1) },
      ],
    };
  }, [perLabel]);
  return <Chart option={option} testId="per-label-chart" height={360} label="Precision, recall and F1 per label" />;
}
