/** A task's pool as the labelling page needs it. */
import { api } from './client.js';
import type { PoolList } from './responses.js';

/**
 * The pool id of a text just put back in the pool. Pool ids only grow, so it comes after `after` (an id the text
 * had before); the pool is deduplicated, so the first text that matches is it.
 */
export async function pooledId(taskPath: string, text: string, after: number): Promise<number> {
  let cursor: number | undefined = after;
  for (;;) {
    const page: PoolList = await api.get<PoolList>(`${taskPath}/pool`, { limit: 1000, after: cursor });
    const hit = page.data.find((t) => t.text === text);
    if (hit) return hit.id;
    if (page.next_after === null) throw new Error('the text went back to the pool but is no longer there (labelled or deleted meanwhile)');
    cursor = Number(page.next_after);
  }
}
