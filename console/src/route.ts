/**
 * The console's pages, addressed by the URL's hash so that the service only
 * ever serves `/`: `#/tasks/<id>`, `#/tasks/<id>/jobs/<job>`,
 * `#/tasks/<id>/versions/<n>`, `#/tasks/<id>/versions/<n>/map`,
 * `#/tasks/<id>/label`, `#/playground`. Pure: unit-tested under Node.
 */

export type Route =
  | { page: 'tasks' }
  | { page: 'task'; task: string }
  | { page: 'job'; task: string; job: string }
  | { page: 'version'; task: string; version: number }
  | { page: 'map'; task: string; version: number }
  | { page: 'label'; task: string }
  | { page: 'playground' }
  | { page: 'not_found'; hash: string };

const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
};

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+|\/+$/g, '');
  if (path === '' || path === 'tasks') return { page: 'tasks' };
  if (path === 'playground') return { page: 'playground' };
  const parts = path.split('/').map(decode);
  if (parts.some((p) => p === undefined || p === '') || parts[0] !== 'tasks') return { page: 'not_found', hash };
  const [, task, kind, id, sub] = parts as string[];
  const n = parts.length;
  if (n === 2) return { page: 'task', task: task! };
  if (kind === 'label' && n === 3) return { page: 'label', task: task! };
  if (kind === 'jobs' && n === 4) return { page: 'job', task: task!, job: id! };
  if (kind === 'versions' && /^[1-9]\d*$/.test(id ?? '')) {
    const version = Number(id);
    if (n === 4) return { page: 'version', task: task!, version };
    if (n === 5 && sub === 'map') return { page: 'map', task: task!, version };
  }
  return { page: 'not_found', hash };
}

const enc = encodeURIComponent;

/** The hash of a page: links are built here only, so they always parse back. */
export const href = {
  tasks: () => '#/',
  task: (task: string) => `#/tasks/${enc(task)}`,
  job: (task: string, job: string) => `#/tasks/${enc(task)}/jobs/${enc(job)}`,
  version: (task: string, version: number) => `#/tasks/${enc(task)}/versions/${version}`,
  map: (task: string, version: number) => `#/tasks/${enc(task)}/versions/${version}/map`,
  label: (task: string) => `#/tasks/${enc(task)}/label`,
  playground: () => '#/playground',
};
