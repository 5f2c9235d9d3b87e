/** The training pool worker's API: run one op of a head's trainer. */
import type { TaskOutcome } from '../../heads/head.js';
import type { Reply } from '../../workers/protocol.js';

export interface PoolTask {
  /** The head type whose trainer owns the op. */
  head: string;
  op: string;
  args: unknown;
}

export type PoolApi = {
  run(task: PoolTask): Promise<Reply<TaskOutcome<unknown>>>;
};
