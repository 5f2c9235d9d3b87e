/** Two texts' cosine similarity at every hidden state. */
import { useMemo } from 'preact/hooks';
import { Chart } from './chart.js';
import { type ChartOption, grid } from './echarts.js';

export function SimilarityChart({ cosines }: { cosines: number[] }) {
  const option = useMemo(
    (): ChartOption => ({
      tooltip: { trigger: 'axis', valueFormatter: (v) => Number(v).toFixed(4) },
      grid: grid({ right: 30 }),
      xAxis: {
        type: 'category',
        data: cosines.map((_, k) => (k === 0 ? '0 (embeddings)' : String(k))),
        name: 'hidden state',
        nameLocation: 'middle',
        nameGap: 30,
      },
      yAxis: { type: 'value', scale: true, name: 'cosine similarity', nameLocation: 'middle', nameGap: 50 },
      series: [{ type: 'line', name: 'cosine similarity', symbolSize: 9, data: cosines }],
    }),
    [cosines],
  );
  return <Chart option={option} testId="similarity-chart" height={340} label="Cosine similarity of the two texts at every hidden state" />;
}
