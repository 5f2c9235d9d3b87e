/**
 * A fine-tuning run in a version's report: loss and hold-out score by epoch,
 * the run's facts; and, for auto with fine_tune, the frozen and fine-tuned
 * candidates side by side on the same held-out rows.
 */
import type { CandidatesReport, FineTuneReport } from '../api/responses.js';
import { FineTuneChart } from '../charts/fine-tune-chart.js';
import { epochSeries, fineTuneRows, heldOutText } from '../charts/fine-tune-data.js';

export function FineTuneCard({ report, chosen }: { report: FineTuneReport; chosen: boolean }) {
  const series = epochSeries(report.history);
  return (
    <div class="card" data-testid="fine-tune" data-epochs={report.history.length}>
      <h2>Fine-tuning</h2>
      <p class="muted small">
        {chosen
          ? "The encoder's top layers and a classifier trained on the examples; the loss is the epoch's mean, the score is on the held-out rows after it."
          : 'The fine-tuned candidate, not chosen: its epochs as they ran.'}
      </p>
      <FineTuneChart series={series} />
      <div class="two-columns">
        <table class="compact" data-testid="fine-tune-epochs">
          <thead>
            <tr>
              <th class="num">epoch</th>
              <th class="num">training loss</th>
              <th class="num">{series.metric === 'macro_f1' ? 'hold-out macro-F1' : 'hold-out accuracy'}</th>
              <th class="num">time</th>
            </tr>
          </thead>
          <tbody>
            {report.history.map((e) => (
              <tr key={e.epoch} data-testid="fine-tune-epoch" data-epoch={e.epoch}>
                <td class="num">{e.epoch}</td>
                <td class="num">{e.loss.toFixed(4)}</td>
                <td class="num">{heldOutText(series.metric, series.heldOut[e.epoch - 1] ?? null)}</td>
                <td class="num">{e.seconds.toFixed(1)} s</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table class="compact" data-testid="fine-tune-facts">
          <tbody>
            {fineTuneRows(report).map(([what, value]) => (
              <tr key={what} data-fact={what}>
                <td>{what}</td>
                <td class="num">{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function CandidatesCard({ report }: { report: CandidatesReport }) {
  const text = (v: number | null) => heldOutText(report.metric, v);
  const rows: Array<{ name: string; head: string; score: number | null }> = [
    { name: `frozen features, ${report.frozen.head.replace(/_/g, ' ')}`, head: report.frozen.head, score: report.frozen.score },
    { name: 'fine-tuned encoder', head: 'fine_tune', score: report.fine_tune.score },
  ];
  return (
    <div class="card" data-testid="candidates" data-chosen={report.chosen}>
      <h2>Frozen or fine-tuned</h2>
      <p class="muted small">
        The best head on the frozen encoder's features and the fine-tuned encoder, scored on the same {report.rows} held-out rows (
        {report.metric === 'macro_f1' ? 'macro-F1' : 'accuracy'}).
      </p>
      <table class="compact">
        <thead>
          <tr>
            <th>candidate</th>
            <th class="num">{report.metric === 'macro_f1' ? 'macro-F1' : 'accuracy'}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.head} class={r.head === report.chosen ? 'current' : ''} data-testid="candidate-row" data-head={r.head} data-score={r.score ?? ''}>
              <td>
                {r.name}
                {r.head === report.chosen && <span class="badge">chosen</span>}
              </td>
              <td class="num">{text(r.score)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="small" data-testid="candidates-reason">
        Chosen: {report.chosen.replace(/_/g, ' ')}, because {report.reason}.
      </p>
    </div>
  );
}
