/** The task's training jobs, newest first. */
import { api } from '../api/client.js';
import type { JobList } from '../api/responses.js';
import { when } from '../format.js';
import { href } from '../route.js';
import { ErrorBox } from '../ui/error-box.js';
import { useApi } from '../ui/use-api.js';

export function JobsList({ taskId, taskPath }: { taskId: string; taskPath: string }) {
  const jobs = useApi((signal) => api.get<JobList>(`${taskPath}/jobs`, { limit: 1000 }, signal), [taskPath]);
  const rows = jobs.data ? [...jobs.data.data].reverse() : [];
  return (
    <div class="card" data-testid="jobs">
      <h2>Jobs</h2>
      <ErrorBox error={jobs.error} />
      {jobs.data && rows.length === 0 && <p class="muted">No training jobs yet.</p>}
      {rows.length > 0 && (
        <table class="compact" data-testid="jobs-table">
          <thead>
            <tr>
              <th>Job</th>
              <th>State</th>
              <th class="num">Progress</th>
              <th>Created</th>
              <th>Version</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((j) => (
              <tr key={j.id} data-testid="job-row">
                <td>
                  <a href={href.job(taskId, j.id)}>
                    <code>{j.id}</code>
                  </a>
                </td>
                <td class={`state state-${j.state}`}>{j.state}</td>
                <td class="num">{j.progress.percent} %</td>
                <td>{when(j.created_at)}</td>
                <td>{j.version === null ? '—' : <a href={href.version(taskId, j.version)}>version {j.version}</a>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
