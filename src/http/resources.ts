/** Loading the resources a path names, with the 404 every route gives when one does not exist. */
import { DomainError } from '../errors.js';
import type { Store, TaskRecord, VersionRecord } from '../store/types.js';

/** The task named in the path, as the request's client sees it. */
export async function taskOf(store: Store, client: string, id: string): Promise<TaskRecord> {
  const task = await store.getTask(client, id);
  if (!task) throw new DomainError('task_not_found', `task "${id}" does not exist`, 'task');
  return task;
}

export const versionNotFound = (taskId: string, number: number) => new DomainError('version_not_found', `task ${taskId} has no version ${number}`, 'version');

/** The task and version named in the path, as the request's client sees them. */
export async function versionOf(store: Store, client: string, taskId: string, number: number): Promise<{ task: TaskRecord; version: VersionRecord }> {
  const task = await taskOf(store, client, taskId);
  const version = await store.getVersion(task.clientId, task.id, number);
  if (!version) throw versionNotFound(task.id, number);
  return { task, version };
}
