/** The confusion matrix as a heatmap: rows true labels, columns predicted, colour the share of the row. */
import { useCallback, useMemo } from 'preact/hooks';
import type { ConfusionMatrix } from '../api/responses.js';
import { escapeHtml, pct } from '../format.js';
import { Chart } from './chart.js';
import { confusionData } from './confusion-data.js';
import { type ChartOption, type ECElementEvent, grid } from './echarts.js';

/** A heatmap item's value: [column, row, share, count]. */
type Cell = [number, number, number, number];

/** Above this share a cell is dark enough for a white count. */
const DARK = 0.55;

interface Props {
  matrix: ConfusionMatrix;
  onCell: (actual: string, predicted: string, count: number) => void;
}

export function ConfusionHeatmap({ matrix, onCell }: Props) {
  const data = useMemo(() => confusionData(matrix), [matrix]);
  const n = data.labels.length;
  const option = useMemo((): ChartOption => {
    const rotate = n > 8 ? 45 : 0;
    return {
      animation: false,
      tooltip: {
        position: 'top',
        formatter: (p) => {
          const [c, r, share, count] = (p as unknown as { value: Cell }).value;
          const actual = escapeHtml(data.labels[r] ?? '');
          const predicted = escapeHtml(data.labels[c] ?? '');
          return `true <b>${actual}</b>, predicted <b>${predicted}</b><br>${count} example${count === 1 ? '' : 's'} (${pct(share)} of ${actual})<br><i>click to list them</i>`;
        },
      },
      grid: grid({ right: 130, top: 20 }),
      xAxis: {
        type: 'category',
        data: data.labels,
        name: 'predicted label',
        nameLocation: 'middle',
        nameGap: rotate ? 70 : 30,
        axisLabel: { interval: 0, rotate },
        splitArea: { show: true },
      },
      yAxis: {
        type: 'category',
        data: data.labels,
        name: 'true label',
        nameLocation: 'middle',
        nameGap: 80,
        inverse: true,
        axisLabel: { interval: 0 },
        splitArea: { show: true },
      },
      visualMap: {
        type: 'continuous',
        min: 0,
        max: 1,
        dimension: 2,
        orient: 'vertical',
        right: 10,
        top: 'middle',
        text: ['100 % of the row', '0 %'],
        formatter: (v: unknown) => pct(Number(v), 0),
        inRange: { color: ['#f7fbff', '#c6dbef', '#6baed6', '#2171b5', '#08306b'] },
      },
      series: [
        {
          type: 'heatmap',
          name: 'examples',
          data: data.cells.map((c) => ({
            value: [c.predicted, c.actual, c.share, c.count] satisfies Cell,
            label: { color: c.share > DARK ? '#fff' : '#1b1f24' },
          })),
          label: { show: n <= 25, formatter: (p) => String((p.value as Cell)[3]) },
          emphasis: { itemStyle: { borderColor: '#d62728', borderWidth: 2 } },
        },
      ],
    };
  }, [data, n]);

  const onItemClick = useCallback(
    (e: ECElementEvent) => {
      const [c, r, , count] = e.value as Cell;
      const actual = data.labels[r];
      const predicted = data.labels[c];
      if (actual !== undefined && predicted !== undefined) onCell(actual, predicted, count);
    },
    [data, onCell],
  );

  const height = Math.min(1600, Math.max(320, 26 * n + 160));
  return (
    <Chart
      option={option}
      testId="confusion-heatmap"
      height={height}
      onItemClick={onItemClick}
      label={`Confusion matrix of ${n} labels: ${data.errors} misclassified examples`}
    />
  );
}
