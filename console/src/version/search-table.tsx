/** Every configuration a parameter search cross-validated, in grid order; the one kept is marked. */
import type { SearchReport } from '../api/types.js';
import { duration, params, pct, score } from '../format.js';

export function SearchTable({ report }: { report: SearchReport }) {
  const chosen = `${report.chosen.head_type} ${params(report.chosen.params)}`;
  return (
    <table class="compact" data-testid="search-table">
      <thead>
        <tr>
          <th>Head</th>
          <th>Parameters</th>
          <th class="num">Accuracy</th>
          <th class="num">Macro-F1</th>
          <th class="num">Time</th>
        </tr>
      </thead>
      <tbody>
        {report.results.map((r) => {
          const id = `${r.head_type} ${params(r.params)}`;
          return (
            <tr key={id} class={id === chosen ? 'current' : ''} data-testid="search-row">
              <td>
                {r.head_type}
                {id === chosen && <span class="badge">chosen</span>}
              </td>
              <td>
                <code>{params(r.params)}</code>
              </td>
              <td class="num">{pct(r.accuracy)}</td>
              <td class="num">{score(r.macro_f1)}</td>
              <td class="num">{duration(r.ms)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
