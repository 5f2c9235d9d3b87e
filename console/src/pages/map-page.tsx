/** The 2-D map of a version's examples (a PCA the training job computed from the features it trained on). */
import { api } from '../api/client.js';
import { seg } from '../api/query.js';
import type { ExampleMap, Task } from '../api/responses.js';
import { ExampleMapChart } from '../charts/example-map-chart.js';
import { mapSummary } from '../charts/example-map-data.js';
import { pct } from '../format.js';
import { href } from '../route.js';
import { Pending } from '../ui/error-box.js';
import { useApi } from '../ui/use-api.js';
import { notStored } from '../version/not-stored.js';

export function MapPage({ taskId, version }: { taskId: string; version: number }) {
  const taskPath = `/v1/tasks/${seg(taskId)}`;
  const map = useApi((signal) => api.get<ExampleMap>(`${taskPath}/versions/${version}/map`, undefined, signal), [taskPath, version]);
  const task = useApi((signal) => api.get<Task>(taskPath, undefined, signal), [taskPath]);
  const crumbs = (
    <p class="crumbs">
      <a href={href.tasks()}>Tasks</a> › <a href={href.task(taskId)}>{task.data?.name ?? 'task'}</a> ›{' '}
      <a href={href.version(taskId, version)}>version {version}</a> ›
    </p>
  );
  if (notStored(map.error))
    return (
      <section>
        {crumbs}
        <h1>Map of version {version}</h1>
        <p data-testid="map-unavailable">This version was trained before the service computed maps: train again to see its examples on a map.</p>
      </section>
    );
  const m = map.data;
  if (!m) return <Pending error={map.error} />;
  const s = mapSummary(m.points);
  return (
    <section data-testid="map-page">
      {crumbs}
      <h1>Map of version {version}</h1>
      <p class="muted" data-testid="map-summary" data-shown={s.shown} data-total={m.total} data-misclassified={s.misclassified}>
        {s.shown === m.total ? `All ${m.total} examples` : `A sample of ${s.shown} of the ${m.total} examples`}, on the first two principal components of the
        features this version was trained on ({pct((m.explained_variance_ratio[0] ?? 0) + (m.explained_variance_ratio[1] ?? 0))} of their variance). Colour: the
        label. Outlined triangles: the {s.misclassified} examples whose out-of-fold prediction is another label
        {s.notHeldOut ? ` (${s.notHeldOut} were never held out)` : ''}. Hover a point for its text; click a label in the legend to hide it.
      </p>
      <ExampleMapChart map={m} />
    </section>
  );
}
