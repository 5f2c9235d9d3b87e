/** The layer sweep's candidates, in the chart's order. */
import type { LayerSweepReport } from '../api/responses.js';
import { sweepPoints } from '../charts/layer-sweep-data.js';
import { accuracyOf, duration, layersName, pct, score } from '../format.js';

export function SweepTable({ report }: { report: LayerSweepReport }) {
  const { candidates, chosen } = sweepPoints(report);
  return (
    <table class="compact" data-testid="layer-sweep-table">
      <thead>
        <tr>
          <th>Candidate</th>
          <th class="num">Dimensions</th>
          <th class="num">Accuracy</th>
          <th class="num">Macro-F1</th>
          <th>Within 1 SE of the best</th>
          <th class="num">Time</th>
        </tr>
      </thead>
      <tbody>
        {candidates.map((r, i) => (
          <tr key={layersName(r)} class={i === chosen ? 'current' : ''}>
            <td>
              {layersName(r)}
              {i === chosen && <span class="badge">chosen</span>}
            </td>
            <td class="num">{r.dimensions}</td>
            <td class="num">{pct(accuracyOf(r))}</td>
            <td class="num">{score(r.macro_f1)}</td>
            <td>{r.within_one_se ? 'yes' : ''}</td>
            <td class="num">{duration(r.ms)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
