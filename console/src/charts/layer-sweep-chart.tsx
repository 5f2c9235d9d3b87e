/**
 * A layer sweep: macro-F1 (and accuracy) of every candidate, one point each,
 * the candidate trained on pinned. Filled points are within one standard
 * error of the best, the set the smallest candidate is chosen from.
 */
import { useMemo } from 'preact/hooks';
import type { LayerSweepReport } from '../api/responses.js';
import { Chart } from './chart.js';
import { type ChartOption, grid } from './echarts.js';
import { sweepPoints } from './layer-sweep-data.js';

export function LayerSweepChart({ report }: { report: LayerSweepReport }) {
  const option = useMemo((): ChartOption => {
    const s = sweepPoints(report);
    const chosenF1 = s.macroF1[s.chosen];
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v) => Number(v).toFixed(3) },
      legend: { top: 0 },
      grid: grid({ top: 50, right: 30 }),
      xAxis: {
        type: 'category',
        data: s.names,
        name: 'hidden state (candidate)',
        nameLocation: 'middle',
        nameGap: s.names.length > 8 ? 60 : 30,
        axisLabel: { interval: 0, rotate: s.names.length > 8 ? 30 : 0 },
      },
      yAxis: { type: 'value', scale: true, name: 'cross-validated score', nameLocation: 'middle', nameGap: 50 },
      series: [
        {
          type: 'line',
          name: 'macro-F1',
          symbolSize: 10,
          data: s.macroF1.map((value, i) => ({ value, symbol: s.withinOneSe[i] ? 'circle' : 'emptyCircle' })),
          markPoint:
            chosenF1 === undefined
              ? { data: [] }
              : { symbol: 'pin', symbolSize: 56, label: { formatter: 'chosen', fontSize: 10 }, data: [{ name: 'chosen', coord: [s.chosen, chosenF1] }] },
        },
        { type: 'line', name: 'accuracy', symbolSize: 6, lineStyle: { type: 'dashed' }, data: s.accuracy },
      ],
    };
  }, [report]);
  return <Chart option={option} testId="layer-sweep-chart" height={340} label="Macro-F1 and accuracy of every layer-sweep candidate" />;
}
