/** The console's frame: navigation, the page the hash names, and the key dialog. */
import { useEffect, useState } from 'preact/hooks';
import { forgetKey, onKeyRequest, storedKey } from './api/key.js';
import { JobPage } from './pages/job-page.js';
import { LabelPage } from './pages/label-page.js';
import { MapPage } from './pages/map-page.js';
import { PlaygroundPage } from './pages/playground-page.js';
import { TaskPage } from './pages/task-page.js';
import { TasksPage } from './pages/tasks-page.js';
import { VersionPage } from './pages/version-page.js';
import { href, parseRoute, type Route } from './route.js';
import { KeyDialog } from './ui/key-dialog.js';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'tasks':
      return <TasksPage />;
    case 'task':
      return <TaskPage taskId={route.task} />;
    case 'job':
      return <JobPage taskId={route.task} jobId={route.job} />;
    case 'version':
      return <VersionPage taskId={route.task} version={route.version} />;
    case 'map':
      return <MapPage taskId={route.task} version={route.version} />;
    case 'label':
      return <LabelPage taskId={route.task} />;
    case 'playground':
      return <PlaygroundPage />;
    case 'not_found':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{route.hash}</code>. <a href={href.tasks()}>Back to the tasks</a>.
          </p>
        </section>
      );
  }
}

/** Whether a key is stored, refreshed whenever the key dialog opens or closes. */
function KeyStatus() {
  const [hasKey, setHasKey] = useState(storedKey() !== null);
  useEffect(() => onKeyRequest(() => setHasKey(storedKey() !== null)), []);
  if (!hasKey) return null;
  return (
    <span class="key-status">
      API key set ·{' '}
      <button type="button" class="link" data-testid="forget-key" onClick={forgetKey}>
        forget it
      </button>
    </span>
  );
}

export function App() {
  const route = useRoute();
  // A page keyed by its route starts afresh when the route changes, rather than showing the last page's data under new ids.
  return (
    <>
      <header class="top">
        <a class="brand" href={href.tasks()}>
          transferd
        </a>
        <nav>
          <a href={href.tasks()} data-testid="nav-tasks">
            Tasks
          </a>
          <a href={href.playground()} data-testid="nav-playground">
            Embeddings playground
          </a>
          <a href="/docs/" data-testid="nav-docs">
            API reference
          </a>
        </nav>
        <KeyStatus />
      </header>
      <main>
        <Page key={JSON.stringify(route)} route={route} />
      </main>
      <KeyDialog />
    </>
  );
}
