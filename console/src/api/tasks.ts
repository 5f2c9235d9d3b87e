/** Lists every task of the client, page after page: a client rarely has more than a few hundred. */
import { api } from './client.js';
import type { Task, TaskList } from './responses.js';

export async function allTasks(signal?: AbortSignal): Promise<Task[]> {
  const tasks: Task[] = [];
  let after: string | undefined;
  do {
    const page = await api.get<TaskList>('/v1/tasks', { limit: 1000, after }, signal);
    tasks.push(...page.data);
    after = page.next_after ?? undefined;
  } while (after);
  return tasks;
}
