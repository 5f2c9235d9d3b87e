/**
 * Every configuration a parameter search tried, in grid order; the one kept is
 * marked. Under successive halving, a configuration dropped early shows its
 * macro-F1 on the folds it was scored on.
 */
import type { SearchReport } from '../api/responses.js';
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
          <th class="num">Folds</th>
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
              <td class="num">{r.accuracy === undefined ? '—' : pct(r.accuracy)}</td>
              <td class="num">{score(r.macro_f1)}</td>
              <td class="num" title={r.dropped ? 'dropped by successive halving after these folds' : undefined}>
                {r.folds ?? '—'}
                {r.dropped ? ' (dropped)' : ''}
              </td>
              <td class="num">{r.ms === undefined ? '—' : duration(r.ms)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
