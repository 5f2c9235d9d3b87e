/**
 * A version: how well it does (accuracy, macro-F1, the confusion matrix with
 * the examples behind each cell, per-label scores), how it was chosen (the
 * layer sweep, the parameter search, fine-tuning's epochs and its comparison
 * with the frozen heads), and the task's versions to roll back to.
 */
import { useCallback, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { seg } from '../api/query.js';
import type { Task, Version, VersionList } from '../api/responses.js';
import { ConfusionHeatmap } from '../charts/confusion-heatmap.js';
import { LayerSweepChart } from '../charts/layer-sweep-chart.js';
import { PerLabelBars } from '../charts/per-label-bars.js';
import { accuracyOf, duration, layersName, params, pct, score } from '../format.js';
import { href } from '../route.js';
import { VersionsTable } from '../task/versions-table.js';
import { ErrorBox, Pending } from '../ui/error-box.js';
import { useApi } from '../ui/use-api.js';
import { CandidatesCard, FineTuneCard } from '../version/fine-tune-card.js';
import { type CellChoice, MisclassifiedList } from '../version/misclassified-list.js';
import { SearchTable } from '../version/search-table.js';
import { SweepTable } from '../version/sweep-table.js';

type Measured = Exclude<Version['metrics'], { method: 'none' }>;

function measuredBy(m: Measured): string {
  if (m.method === 'cv') return `${m.folds ?? '?'}-fold cross-validation over ${m.n} examples`;
  return `a hold-out of ${pct(m.holdout_fraction ?? 0, 0)} (${m.n} examples)`;
}

/** The job's word on whether this version became active, and why. */
function ActivationNote({ report }: { report: Version['report'] }) {
  const a = report.activation;
  if (!a) return null;
  return (
    <p class="small" data-testid="activation-note">
      {a.decision === 'activated' ? 'Made active when trained: ' : 'Not made active when trained: '}
      {a.reason}
      {a.compared &&
        ` (accuracy ${pct(a.compared.new)} against version ${a.compared.active.version}'s ${pct(a.compared.active.score)} on ${a.compared.rows} examples, each out of sample)`}
      .
    </p>
  );
}

export function VersionPage({ taskId, version }: { taskId: string; version: number }) {
  const taskPath = `/v1/tasks/${seg(taskId)}`;
  const versionPath = `${taskPath}/versions/${version}`;
  const v = useApi((signal) => api.get<Version>(versionPath, undefined, signal), [versionPath]);
  const task = useApi((signal) => api.get<Task>(taskPath, undefined, signal), [taskPath]);
  const versions = useApi((signal) => api.get<VersionList>(`${taskPath}/versions`, undefined, signal), [taskPath]);
  const [cell, setCell] = useState<CellChoice | null>(null);
  const onCell = useCallback((actual: string, predicted: string, count: number) => setCell({ actual, predicted, count }), []);

  const d = v.data;
  if (!d) return <Pending error={v.error} />;
  const m = d.metrics;
  // A multi-label version's metrics: no accuracy or confusion matrix, a threshold per label.
  const multi = 'kind' in m ? m : null;
  const header = (
    <>
      <p class="crumbs">
        <a href={href.tasks()}>Tasks</a> › <a href={href.task(taskId)}>{task.data?.name ?? 'task'}</a> ›
      </p>
      <h1>
        Version {d.version} {d.active && <span class="badge">active</span>}
      </h1>
      <p class="muted">
        {d.head_type} ({params(d.params)}) on {layersName(d.feature_spec)}, {d.feature_spec.pooling} pooling · {d.labels.length} labels · trained in{' '}
        {duration(d.training_ms)} · <a href={href.map(taskId, d.version)}>2-D map of the examples →</a>
      </p>
      <ActivationNote report={d.report} />
    </>
  );
  const fineTuning = (
    <>
      {d.report.candidates && <CandidatesCard report={d.report.candidates} />}
      {d.report.fine_tune && <FineTuneCard report={d.report.fine_tune} chosen={d.head_type === 'fine_tune'} />}
    </>
  );
  if (m.method === 'none')
    return (
      <section data-testid="version-page" data-version={d.version}>
        {header}
        <p data-testid="not-evaluated">Not evaluated: {m.reason}. Its scores are unknown; label more examples and train again to measure it.</p>
        {fineTuning}
      </section>
    );
  const reload = () => {
    v.reload();
    versions.reload();
  };
  return (
    <section data-testid="version-page" data-version={d.version}>
      {header}
      <div class="metrics">
        {multi ? (
          <>
            <div class="metric" data-testid="metric-micro-f1">
              <div class="metric-value">{score(multi.micro_f1)}</div>
              <div class="metric-name">micro-F1</div>
            </div>
            <div class="metric">
              <div class="metric-value">{pct(multi.subset_accuracy)}</div>
              <div class="metric-name">subset accuracy</div>
            </div>
            <div class="metric">
              <div class="metric-value">{multi.hamming_loss.toFixed(4)}</div>
              <div class="metric-name">Hamming loss</div>
            </div>
          </>
        ) : (
          <div class="metric" data-testid="metric-accuracy">
            <div class="metric-value">{pct(accuracyOf(m))}</div>
            <div class="metric-name">accuracy</div>
          </div>
        )}
        <div class="metric" data-testid="metric-macro-f1">
          <div class="metric-value">{score(m.macro_f1)}</div>
          <div class="metric-name">macro-F1</div>
        </div>
        <div class="metric">
          <div class="metric-value small">{measuredBy(m)}</div>
          <div class="metric-name">measured by</div>
        </div>
      </div>
      {fineTuning}
      {'confusion_matrix' in m && (
        <div class="card">
          <h2>Confusion matrix</h2>
          <p class="muted small">
            Rows are true labels, columns predicted ones; the colour is the share of the row, the number the count. Click a cell to list its examples.
          </p>
          <ConfusionHeatmap matrix={m.confusion_matrix} onCell={onCell} />
          {cell && <MisclassifiedList key={`${cell.actual}\u0000${cell.predicted}`} versionPath={versionPath} cell={cell} />}
        </div>
      )}
      <div class="card">
        <h2>Per label</h2>
        {multi && (
          <p class="muted small">
            Each label is predicted when its probability reaches its threshold, chosen by cross-validation:{' '}
            {multi.per_label.map((l) => `${l.label} ${l.threshold.toFixed(2)}`).join(' · ')}
          </p>
        )}
        <PerLabelBars perLabel={m.per_label} />
      </div>
      {d.report.learning_curve && (
        <div class="card" data-testid="learning-curve">
          <h2>Learning curve</h2>
          <p class="muted small">
            The same head cross-validated on shares of each fold's training rows, the held-out rows unchanged: how the score grows with examples.
          </p>
          <table class="compact">
            <thead>
              <tr>
                <th class="num">share</th>
                <th class="num">examples a fold</th>
                <th class="num">{d.report.learning_curve.metric === 'accuracy' ? 'accuracy' : 'subset accuracy'}</th>
                <th class="num">macro-F1</th>
              </tr>
            </thead>
            <tbody>
              {d.report.learning_curve.points.map((p) => (
                <tr key={p.fraction}>
                  <td class="num">{pct(p.fraction, 0)}</td>
                  <td class="num">{p.examples}</td>
                  <td class="num">{pct(p.accuracy ?? p.subset_accuracy ?? 0)}</td>
                  <td class="num">{score(p.macro_f1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {d.report.learning_curve.estimate && (
            <p class="small" data-testid="learning-curve-estimate">
              Each fold's power law, read from its measured score, puts {d.report.learning_curve.metric === 'accuracy' ? 'accuracy' : 'macro-F1'} at{' '}
              {pct(Number(d.report.learning_curve.estimate[`${d.report.learning_curve.metric}_at_double`]))}
              {d.report.learning_curve.estimate.interval &&
                ` (95 % interval ${pct(d.report.learning_curve.estimate.interval[0])}–${pct(d.report.learning_curve.estimate.interval[1])})`}{' '}
              with twice the examples ({d.report.learning_curve.estimate.doubled_examples} a fold): an extrapolation.
            </p>
          )}
        </div>
      )}
      {d.report.multitask && (
        <div class="card" data-testid="multitask">
          <h2>Trained with other tasks</h2>
          <p class="muted small">
            Hidden layers shared with {d.report.multitask.tasks.length - 1} other task(s), an output layer of its own; scored on the same folds as the same MLP
            trained on this task alone.
          </p>
          <table class="compact">
            <thead>
              <tr>
                <th />
                <th class="num">accuracy</th>
                <th class="num">macro-F1</th>
              </tr>
            </thead>
            <tbody>
              {(['joint', 'alone'] as const).map((side) => (
                <tr key={side}>
                  <td>{side === 'joint' ? 'trained together' : 'alone'}</td>
                  <td class="num">{pct(d.report.multitask![side].accuracy)}</td>
                  <td class="num">{score(d.report.multitask![side].macro_f1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {d.report.layer_sweep && (
        <div class="card" data-testid="layer-sweep">
          <h2>Layer sweep</h2>
          <p class="muted small">
            The probe's cross-validated scores on every candidate. Filled points are within one standard error of the best; the smallest of them is chosen.
          </p>
          <LayerSweepChart report={d.report.layer_sweep} />
          <SweepTable report={d.report.layer_sweep} />
        </div>
      )}
      {d.report.search && (
        <div class="card" data-testid="search">
          <h2>Parameter search</h2>
          <SearchTable report={d.report.search} />
        </div>
      )}
      <div class="card">
        <h2>Versions</h2>
        <ErrorBox error={versions.error} />
        {versions.data && <VersionsTable taskId={taskId} taskPath={taskPath} versions={versions.data.data} current={d.version} onActivated={reload} />}
      </div>
    </section>
  );
}
