/**
 * Retraining while labelling: the task's retrain_after setting, the task's
 * latest job followed live, and once it ends, the new version's score beside
 * the one it was compared with.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { FINISHED, watchJob } from '../api/job-events.js';
import type { Job, JobList, Task, Version, VersionList } from '../api/responses.js';
import { pct } from '../format.js';
import { retrainComparison, type ScoreComparison } from '../label-session.js';
import { href } from '../route.js';
import { ErrorBox } from '../ui/error-box.js';
import { ProgressBar } from '../ui/progress-bar.js';
import { useAction } from '../ui/use-action.js';

/** What the setting offers before one is chosen. */
const SUGGESTED_RETRAIN_AFTER = 10;

/** The task's newest job (the list is oldest first, a page at a time), or null when it has none. */
async function latestJob(taskPath: string): Promise<Job | null> {
  let last: Job | null = null;
  let after: string | undefined;
  do {
    const page = await api.get<JobList>(`${taskPath}/jobs`, { limit: 1000, after });
    last = page.data.at(-1) ?? last;
    after = page.next_after ?? undefined;
  } while (after);
  return last;
}

async function comparisonOf(taskPath: string, version: number): Promise<ScoreComparison> {
  const [v, all] = await Promise.all([api.get<Version>(`${taskPath}/versions/${version}`), api.get<VersionList>(`${taskPath}/versions`)]);
  return retrainComparison(v, all.data);
}

function RetrainSetting({ task, taskPath, onChanged }: { task: Task; taskPath: string; onChanged: (task: Task) => void }) {
  const [value, setValue] = useState(task.retrain_after ?? SUGGESTED_RETRAIN_AFTER);
  const save = useAction();
  const patch = (retrain_after: number | null) => save.run(async () => onChanged(await api.patch<Task>(taskPath, { retrain_after })));
  return (
    <form
      class="inline-form"
      data-testid="retrain-form"
      onSubmit={(e) => {
        e.preventDefault();
        void patch(value);
      }}
    >
      <p data-testid="retrain-setting" data-value={task.retrain_after ?? 'off'}>
        {task.retrain_after === null
          ? 'Retraining by itself is off.'
          : `Retrains by itself after ${task.retrain_after} new labels (${task.new_examples} so far).`}
      </p>
      <label>
        Retrain after{' '}
        <input
          type="number"
          min={1}
          max={1_000_000}
          class="narrow"
          value={value}
          data-testid="retrain-after"
          onInput={(e) => setValue(e.currentTarget.valueAsNumber)}
        />{' '}
        new labels
      </label>{' '}
      <button type="submit" disabled={save.busy} data-testid="retrain-save">
        {task.retrain_after === null ? 'Turn on' : 'Save'}
      </button>{' '}
      {task.retrain_after !== null && (
        <button type="button" disabled={save.busy} data-testid="retrain-off" onClick={() => void patch(null)}>
          Turn off
        </button>
      )}
      <ErrorBox error={save.error} testId="retrain-error" />
    </form>
  );
}

function Comparison({ task, c }: { task: string; c: ScoreComparison }) {
  return (
    <p
      data-testid="retrain-result"
      data-version={c.version}
      data-score={c.score ?? ''}
      data-previous-version={c.previous?.version ?? ''}
      data-previous-score={c.previous?.score ?? ''}
      data-decision={c.decision ?? ''}
    >
      <strong>
        <a href={href.version(task, c.version)}>Version {c.version}</a>
      </strong>
      : {c.score === null ? 'no score' : pct(c.score)}
      {c.previous && (
        <>
          {' '}
          · version {c.previous.version}
          {c.previous.version === 0 ? ' (zero-shot)' : ''}: {pct(c.previous.score)}
        </>
      )}
      {c.rows !== null && <span class="muted"> on the same {c.rows} examples</span>}
      {c.decision && <span class={c.decision === 'activated' ? 'agrees' : 'muted'}> · {c.decision}</span>}
      {c.reason && <span class="muted small"> ({c.reason})</span>}
    </p>
  );
}

/**
 * `generation`: bumped by the page when a job may have been queued (the task's count of new labels started
 * afresh); `onJobEnded`: the latest job finished, so the active version may have changed.
 */
export function RetrainPanel({
  task,
  taskPath,
  generation,
  onTaskChanged,
  onJobEnded,
}: {
  task: Task;
  taskPath: string;
  generation: number;
  onTaskChanged: (task: Task) => void;
  onJobEnded: (job: Job) => void;
}) {
  const [job, setJob] = useState<Job | null>(null);
  const [comparison, setComparison] = useState<ScoreComparison | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let stop: (() => void) | undefined;
    let gone = false;
    const ended = (j: Job) => {
      onJobEnded(j);
      if (j.state !== 'succeeded' || j.version === null) return;
      comparisonOf(taskPath, j.version).then((c) => !gone && setComparison(c), setError);
    };
    latestJob(taskPath).then((latest) => {
      if (gone || !latest) return;
      setJob(latest);
      if (FINISHED.includes(latest.state)) {
        if (latest.state === 'succeeded' && latest.version !== null) comparisonOf(taskPath, latest.version).then((c) => !gone && setComparison(c), setError);
        return;
      }
      setComparison(null);
      stop = watchJob(task.id, latest.id, {
        onJob: (j) => {
          if (gone) return;
          setJob(j);
          if (FINISHED.includes(j.state)) ended(j);
        },
        onConnection: () => undefined,
        onError: setError,
      });
    }, setError);
    return () => {
      gone = true;
      stop?.();
    };
  }, [taskPath, generation]);

  return (
    <div class="card" data-testid="retrain-panel">
      <h2>Retraining</h2>
      <RetrainSetting task={task} taskPath={taskPath} onChanged={onTaskChanged} />
      <ErrorBox error={error} />
      {job && (
        <div data-testid="retrain-job" data-job={job.id} data-state={job.state} data-trigger={job.trigger}>
          <p class="small">
            Latest job <a href={href.job(task.id, job.id)}>{job.id}</a>
            {job.trigger === 'retrain_after' ? ', queued by retrain_after' : ''}:
          </p>
          <ProgressBar testId="retrain-progress" percent={job.progress.percent} state={job.state} label={`${job.progress.percent} % · ${job.state}`} />
          {job.error && (
            <div class="error" role="alert">
              {job.error.message} <span class="error-code">({job.error.code})</span>
            </div>
          )}
        </div>
      )}
      {comparison && job?.version === comparison.version && <Comparison task={task.id} c={comparison} />}
    </div>
  );
}
