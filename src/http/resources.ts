/** Loading the resources a path names, with the 404 every route gives when one does not exist. */
import { DomainError } from '../errors.js';
import type { Store, TaskRecord } from '../store/types.js';

/** The task named in the path, as the request's tenant sees it. */
export async function taskOf(store: Store, tenant: string, id: string): Promise<TaskRecord> {
  const task = await store.getTask(tenant, id);
  if (!task) throw new DomainError('task_not_found', `task "${id}" does not exist`, 'task');
  return task;
}
