/**
 * Fine-tuning by epoch: the mean training loss (left axis) and the hold-out
 * score after the epoch (right axis). On a running job, epochs not done yet
 * are on the axis, empty, and fill in as they finish.
 */
import { useMemo } from 'preact/hooks';
import { Chart } from './chart.js';
import { type ChartOption, grid } from './echarts.js';
import type { EpochSeries } from './fine-tune-data.js';

export function FineTuneChart({ series, testId = 'fine-tune-chart' }: { series: EpochSeries; testId?: string }) {
  const option = useMemo((): ChartOption => {
    const metricName = series.metric === 'macro_f1' ? 'hold-out macro-F1' : 'hold-out accuracy';
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v) => (v === null || v === undefined ? '—' : Number(v).toFixed(3)) },
      legend: { top: 0 },
      grid: grid({ top: 50, right: 20 }),
      xAxis: { type: 'category', data: series.epochs.map(String), name: 'epoch', nameLocation: 'middle', nameGap: 30 },
      yAxis: [
        { type: 'value', name: 'training loss', nameLocation: 'middle', nameGap: 45, min: 0 },
        { type: 'value', name: metricName, nameLocation: 'middle', nameGap: 45, min: 0, max: 1, splitLine: { show: false } },
      ],
      series: [
        { type: 'line', name: 'training loss', yAxisIndex: 0, symbolSize: 8, data: series.loss },
        ...(series.metric
          ? [{ type: 'line' as const, name: metricName, yAxisIndex: 1, symbolSize: 8, lineStyle: { type: 'dashed' as const }, data: series.heldOut }]
          : []),
      ],
    };
  }, [series]);
  return <Chart option={option} testId={testId} height={300} label="Training loss and hold-out score per epoch of fine-tuning" />;
}
