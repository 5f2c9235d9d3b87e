/**
 * ECharts with only the parts the console draws (heatmap, line, bar,
 * scatter; axes, tooltips, legends, the heatmap's colour scale, markers),
 * which keeps the bundle well under the full library's size.
 */
import {
  BarChart,
  type BarSeriesOption,
  HeatmapChart,
  type HeatmapSeriesOption,
  LineChart,
  type LineSeriesOption,
  ScatterChart,
  type ScatterSeriesOption,
} from 'echarts/charts';
import {
  DataZoomComponent,
  type DataZoomComponentOption,
  GridComponent,
  type GridComponentOption,
  LegendComponent,
  type LegendComponentOption,
  MarkPointComponent,
  type MarkPointComponentOption,
  TitleComponent,
  type TitleComponentOption,
  TooltipComponent,
  type TooltipComponentOption,
  VisualMapComponent,
  type VisualMapComponentOption,
} from 'echarts/components';
import { type ComposeOption, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

use([
  BarChart,
  HeatmapChart,
  LineChart,
  ScatterChart,
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkPointComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

export type ChartOption = ComposeOption<
  | BarSeriesOption
  | HeatmapSeriesOption
  | LineSeriesOption
  | ScatterSeriesOption
  | DataZoomComponentOption
  | GridComponentOption
  | LegendComponentOption
  | MarkPointComponentOption
  | TitleComponentOption
  | TooltipComponentOption
  | VisualMapComponentOption
>;

export { type ECElementEvent, type EChartsType, init } from 'echarts/core';

/** A plot area whose axis labels and names fit inside these margins (ECharts 6's outer bounds): nothing is cut at the canvas edge. */
export const grid = (margins: { left?: number; right?: number; top?: number; bottom?: number } = {}): GridComponentOption => ({
  left: 10,
  right: 20,
  top: 30,
  bottom: 10,
  ...margins,
  outerBoundsMode: 'same',
  outerBoundsContain: 'all',
});
