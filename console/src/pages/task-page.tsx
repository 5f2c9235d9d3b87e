/** One task: its examples and labels, uploads, training, jobs, versions, a box to try it, and a link to label its pool. */
import { useState } from 'preact/hooks';
import { api } from '../api/client.js';
import { seg } from '../api/query.js';
import type { Task, VersionList } from '../api/responses.js';
import { layersName } from '../format.js';
import { href } from '../route.js';
import { ExamplesTable } from '../task/examples-table.js';
import { JobsList } from '../task/jobs-list.js';
import { LabelCounts } from '../task/label-counts.js';
import { LabelDescriptions } from '../task/label-descriptions.js';
import { TrainForm } from '../task/train-form.js';
import { TryIt } from '../task/try-it.js';
import { UploadForm } from '../task/upload-form.js';
import { VersionsTable } from '../task/versions-table.js';
import { ErrorBox, Pending } from '../ui/error-box.js';
import { useApi } from '../ui/use-api.js';

export function TaskPage({ taskId }: { taskId: string }) {
  const taskPath = `/v1/tasks/${seg(taskId)}`;
  const task = useApi((signal) => api.get<Task>(taskPath, undefined, signal), [taskPath]);
  const versions = useApi((signal) => api.get<VersionList>(`${taskPath}/versions`, undefined, signal), [taskPath]);
  // Bumped by an upload, so the examples table shows what it added.
  const [uploads, setUploads] = useState(0);

  const t = task.data;
  if (!t) return <Pending error={task.error} />;
  const counts = t.label_counts ?? {};
  return (
    <section data-testid="task-page" data-task-id={t.id}>
      <p class="crumbs">
        <a href={href.tasks()}>Tasks</a> ›
      </p>
      <h1>{t.name}</h1>
      <p class="muted">
        <code>{t.id}</code> · {t.example_count} examples · {Object.keys(counts).length} labels · features: {t.feature_spec.model}, {layersName(t.feature_spec)},{' '}
        {t.feature_spec.pooling} pooling · active version: {t.active_version ?? 'none'}
      </p>
      {t.description && <p>{t.description}</p>}
      <p>
        <a class="button" href={href.label(t.id)} data-testid="label-link">
          Label texts →
        </a>{' '}
        <span class="muted small">
          {t.pool_count} unlabelled {t.pool_count === 1 ? 'text' : 'texts'} in the pool, suggested one at a time
        </span>
      </p>
      <ErrorBox error={task.error} />
      <div class="two-columns">
        <div class="card">
          <h2>Labels</h2>
          <LabelCounts counts={counts} />
        </div>
        <UploadForm
          taskPath={taskPath}
          onUploaded={() => {
            task.reload();
            setUploads((n) => n + 1);
          }}
        />
      </div>
      <LabelDescriptions task={t} taskPath={taskPath} onSaved={() => task.reload()} />
      <div class="two-columns">
        <TrainForm taskId={t.id} taskPath={taskPath} kind={t.kind} />
        <JobsList taskId={t.id} taskPath={taskPath} />
      </div>
      <div class="card" data-testid="versions">
        <h2>Versions</h2>
        <ErrorBox error={versions.error} />
        {versions.data && (
          <VersionsTable
            taskId={t.id}
            taskPath={taskPath}
            versions={versions.data.data}
            onActivated={() => {
              task.reload();
              versions.reload();
            }}
          />
        )}
      </div>
      <TryIt task={t} taskPath={taskPath} versions={versions.data?.data ?? []} />
      <ExamplesTable taskPath={taskPath} labels={Object.keys(counts).sort()} generation={uploads} />
    </section>
  );
}
