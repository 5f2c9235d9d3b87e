/**
 * A training pool's worker: runs the head ops it is sent, one at a time,
 * until told to stop. Threads started from a niced job thread inherit its
 * priority.
 */
import { headOf } from '../../heads/registry.js';
import { reply, serve } from '../../workers/serve.js';
import type { PoolApi } from './pool-protocol.js';

/**
 * The buffers of the fresh typed arrays in an op's result (nested one level
 * in arrays and objects), moved to the caller instead of copied. Shared
 * memory is never moved; an op's result is never kept by the worker.
 */
function transferables(value: unknown, depth = 0, out = new Set<ArrayBuffer>()): Set<ArrayBuffer> {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) out.add(value.buffer);
  } else if (depth < 2 && value && typeof value === 'object') {
    for (const v of Array.isArray(value) ? value : Object.values(value)) transferables(v, depth + 1, out);
  }
  return out;
}

serve<PoolApi>({
  async run({ head, op, args }) {
    const definition = headOf(head);
    if (!definition) throw new Error(`unknown head type ${head}`);
    const fn = (await definition.trainer()).ops[op] as ((args: unknown) => unknown) | undefined;
    if (!fn) throw new Error(`head ${head} has no op ${op}`);
    const started = performance.now();
    const result = fn(args);
    return reply({ result, ms: performance.now() - started }, [...transferables(result)]);
  },
});
