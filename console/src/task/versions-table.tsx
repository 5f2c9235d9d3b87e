/** Every version of a task with its scores; activating an older one is a rollback. */
import { api } from '../api/client.js';
import type { VersionSummary } from '../api/responses.js';
import { accuracyOf, layersName, pct, score, when } from '../format.js';
import { href } from '../route.js';
import { ErrorBox } from '../ui/error-box.js';
import { useAction } from '../ui/use-action.js';

interface Props {
  taskId: string;
  taskPath: string;
  versions: VersionSummary[];
  /** The version the page shows, if any: highlighted. */
  current?: number;
  onActivated: () => void;
}

export function VersionsTable({ taskId, taskPath, versions, current, onActivated }: Props) {
  const activation = useAction();
  if (versions.length === 0) return <p class="muted">No versions yet: train one.</p>;
  const activate = (n: number) =>
    activation.run(async () => {
      await api.post(`${taskPath}/versions/${n}/activate`);
      onActivated();
    });
  return (
    <>
      <table class="compact" data-testid="versions-table">
        <thead>
          <tr>
            <th>Version</th>
            <th>Head</th>
            <th>Features</th>
            <th class="num">Accuracy</th>
            <th class="num">Macro-F1</th>
            <th>Measured by</th>
            <th class="num">Examples</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {[...versions].reverse().map((v) => (
            <tr
              key={v.version}
              class={v.version === current ? 'current' : ''}
              data-testid="version-row"
              data-version={v.version}
              data-active={String(v.active)}
            >
              <td>
                <a href={href.version(taskId, v.version)}>version {v.version}</a> · <a href={href.map(taskId, v.version)}>map</a>
              </td>
              <td>{v.head_type}</td>
              <td>{layersName(v.feature_spec)}</td>
              <td class="num" title={'kind' in v.metrics ? 'subset accuracy (multi-label)' : undefined}>
                {v.metrics.method === 'none' ? '–' : pct(accuracyOf(v.metrics))}
              </td>
              <td class="num">{v.metrics.method === 'none' ? '–' : score(v.metrics.macro_f1)}</td>
              <td title={v.metrics.method === 'none' ? v.metrics.reason : undefined}>
                {v.metrics.method === 'cv' ? 'cross-validation' : v.metrics.method === 'holdout' ? 'hold-out' : 'not evaluated'}
              </td>
              <td class="num">{v.example_count}</td>
              <td>{when(v.created_at)}</td>
              <td>
                {v.active ? (
                  <span class="badge" data-testid="active-badge">
                    active
                  </span>
                ) : (
                  <button type="button" disabled={activation.busy} data-testid={`activate-${v.version}`} onClick={() => void activate(v.version)}>
                    Activate
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorBox error={activation.error} testId="activate-error" />
    </>
  );
}
