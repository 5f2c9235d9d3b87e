/**
 * One ECharts chart in a div that follows its container's width. The
 * instance is kept on the element (`element.echarts`) so that the browser
 * test, or a person in the devtools, can read what a chart holds rather
 * than its pixels.
 */
import { useEffect, useRef } from 'preact/hooks';
import { type ChartOption, type ECElementEvent, type EChartsType, init } from './echarts.js';

export type ChartElement = HTMLDivElement & { echarts?: EChartsType };

interface ChartProps {
  option: ChartOption;
  testId: string;
  height?: number;
  /** A click on a data item (a heatmap cell, a point). */
  onItemClick?: (event: ECElementEvent) => void;
  /** Names what the chart shows, for screen readers. */
  label: string;
}

export function Chart({ option, testId, height = 400, onItemClick, label }: ChartProps) {
  const ref = useRef<ChartElement>(null);
  const chart = useRef<EChartsType | null>(null);

  useEffect(() => {
    const el = ref.current!;
    const instance = init(el, undefined, { renderer: 'canvas' });
    chart.current = instance;
    el.echarts = instance;
    const resize = new ResizeObserver(() => instance.resize());
    resize.observe(el);
    return () => {
      resize.disconnect();
      instance.dispose();
      chart.current = null;
      delete el.echarts;
    };
  }, []);

  useEffect(() => {
    const instance = chart.current!;
    instance.setOption(option, { notMerge: true });
    const points = (instance.getOption().series as Array<{ data?: unknown[] }> | undefined)?.reduce((n, s) => n + (s.data?.length ?? 0), 0) ?? 0;
    // What the chart draws, read back from ECharts: tests wait for it.
    ref.current!.dataset.points = String(points);
  }, [option]);

  useEffect(() => {
    const instance = chart.current!;
    if (!onItemClick) return;
    instance.on('click', onItemClick);
    return () => instance.off('click', onItemClick);
  }, [onItemClick]);

  return <div ref={ref} class="chart" data-testid={testId} role="img" aria-label={label} style={{ height: `${height}px` }} />;
}
