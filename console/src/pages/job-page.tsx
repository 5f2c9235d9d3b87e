/** A training job, followed live through its event stream until it ends; a fine-tuning one by step and epoch. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import type { ApiError } from '../api/errors.js';
import { FINISHED, watchJob } from '../api/job-events.js';
import { seg } from '../api/query.js';
import type { FineTuneProgress, Job } from '../api/responses.js';
import { FineTuneChart } from '../charts/fine-tune-chart.js';
import { epochSeries, heldOutText, stepText } from '../charts/fine-tune-data.js';
import { duration, when } from '../format.js';
import { href } from '../route.js';
import { ErrorBox, Pending } from '../ui/error-box.js';
import { ProgressBar } from '../ui/progress-bar.js';
import { useAction } from '../ui/use-action.js';

/** Words for the pipeline's phases (src/training/pipeline.ts). */
const PHASES: Record<string, string> = {
  queued: 'waiting for a worker',
  starting: 'starting',
  features: 'computing features',
  training: 'training',
  layer_sweep: 'measuring every layer',
  search: 'searching parameters',
  evaluate: 'evaluating the chosen head',
  fit: 'fitting the final head',
  fine_tune: 'fine-tuning the encoder',
  done: 'done',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function JobPage({ taskId, jobId }: { taskId: string; jobId: string }) {
  const [job, setJob] = useState<Job | null>(null);
  const [live, setLive] = useState<boolean | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const cancel = useAction();

  useEffect(() => watchJob(taskId, jobId, { onJob: setJob, onConnection: setLive, onError: setError }), [taskId, jobId]);

  if (!job) return <Pending error={error} />;
  const finished = FINISHED.includes(job.state);
  const phase = PHASES[job.progress.phase] ?? job.progress.phase.replace(/_/g, ' ');
  return (
    <section data-testid="job-page">
      <p class="crumbs">
        <a href={href.tasks()}>Tasks</a> › <a href={href.task(taskId)}>task</a> ›
      </p>
      <h1>
        Job <code>{job.id}</code>
      </h1>
      <p>
        <span class={`state state-${job.state}`} data-testid="job-state">
          {job.state}
        </span>{' '}
        <span class="muted small" data-testid="job-live">
          {finished ? '' : live === false ? '· connection lost, reconnecting…' : live ? '· live' : ''}
        </span>
      </p>
      <ProgressBar testId="job-progress" percent={job.progress.percent} state={job.state} label={`${job.progress.percent} % · ${phase}`} />
      {job.progress.fine_tune && <FineTuneLive progress={job.progress.fine_tune} />}
      <ErrorBox error={error} />
      {job.error && (
        <div class="error" role="alert" data-testid="job-error">
          {job.error.message} <span class="error-code">({job.error.code})</span>
        </div>
      )}
      {job.state === 'succeeded' && job.version !== null && (
        <p>
          <a class="button" href={href.version(taskId, job.version)} data-testid="job-version-link">
            See version {job.version} →
          </a>
        </p>
      )}
      {!finished && (
        <p>
          <button
            type="button"
            class="danger"
            data-testid="job-cancel"
            disabled={job.cancel_requested || cancel.busy}
            onClick={() => void cancel.run(() => api.delete(`/v1/tasks/${seg(taskId)}/jobs/${seg(jobId)}`))}
          >
            {job.cancel_requested ? 'Cancelling…' : 'Cancel'}
          </button>
        </p>
      )}
      <ErrorBox error={cancel.error} />
      <div class="two-columns">
        <div class="card">
          <h2>Timings</h2>
          {job.timings.length === 0 ? (
            <p class="muted">No phase has finished yet.</p>
          ) : (
            <table class="compact" data-testid="job-timings">
              <tbody>
                {job.timings.map((t) => (
                  <tr key={t.phase}>
                    <td>{PHASES[t.phase] ?? t.phase}</td>
                    <td class="num">{duration(t.ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p class="muted small">
            created {when(job.created_at)} · started {when(job.started_at)} · finished {when(job.finished_at)} · attempts {job.attempts}
            {job.runner ? ` · running on ${job.runner}` : ''}
          </p>
        </div>
        <div class="card">
          <h2>Request</h2>
          <pre>{JSON.stringify(job.request, null, 2)}</pre>
        </div>
      </div>
    </section>
  );
}

/** The step the run is at, and the epochs done so far on an axis of all of them. */
function FineTuneLive({ progress }: { progress: FineTuneProgress }) {
  const series = epochSeries(progress.epochs_done, progress.epochs);
  const last = progress.epochs_done.at(-1);
  return (
    <div class="card" data-testid="fine-tune-progress" data-step={progress.step} data-epochs-done={progress.epochs_done.length}>
      <h2>Fine-tuning</h2>
      <p data-testid="fine-tune-step">
        {stepText(progress)}
        {last &&
          ` · after epoch ${last.epoch}: loss ${last.loss.toFixed(4)}${series.metric ? `, ${heldOutText(series.metric, series.heldOut[last.epoch - 1] ?? null)} on the hold-out` : ''}`}
      </p>
      <FineTuneChart series={series} testId="fine-tune-live-chart" />
    </div>
  );
}
