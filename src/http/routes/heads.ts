/** GET /v1/heads: the head types of the registry, with what a training request may say of each (the console's training form reads it). */
import type { z } from 'zod';
import { FINE_TUNED_FIELDS } from '../../heads/fine-tuned.js';
import type { AnyHead } from '../../heads/registry.js';
import { FINE_TUNE_DESCRIPTION, FINE_TUNE_HEAD, fineTuneParamsSchema } from '../../training/fine-tune/params.js';
import { autoDefaults, DEFAULT_HEAD } from '../../training/request.js';
import { jsonSchema } from '../openapi.js';
import { type Route, route } from '../route.js';
import { taskKind } from '../schemas/common.js';
import { type headTypeOut, headsOut } from '../schemas/head.js';

function headJson(h: AnyHead, heads: readonly AnyHead[]): z.infer<typeof headTypeOut> {
  const kinds = taskKind.options;
  return {
    object: 'head_type',
    type: h.type,
    description: h.description,
    task_kinds: kinds.filter((k) => k === 'single_label' || h.multiLabel !== false),
    multi_label: h.multiLabel || null,
    default_for: kinds.filter((k) => DEFAULT_HEAD[k] === h.type),
    auto: kinds.filter((k) => autoDefaults(k, heads).includes(h.type)),
    search: h.searchDescription,
    params: jsonSchema(h.params) as z.infer<typeof headTypeOut>['params'],
    defaults: h.params.parse({}),
    artifact: { format: h.format, description: h.artifactDescription },
    exportable: h.onnx !== undefined,
  };
}

/** Fine-tuning as a head type: not in the registry (it trains the encoder's layers, not on stored features), named the same way. */
function fineTuneJson(): z.infer<typeof headTypeOut> {
  return {
    object: 'head_type',
    type: FINE_TUNE_HEAD,
    description: FINE_TUNE_DESCRIPTION,
    task_kinds: [...taskKind.options],
    multi_label: 'native',
    default_for: [],
    auto: [],
    search: 'no search: its parameters are given or defaulted (auto trains it with its defaults when named among the candidates)',
    params: jsonSchema(fineTuneParamsSchema) as z.infer<typeof headTypeOut>['params'],
    defaults: fineTuneParamsSchema.parse({}),
    artifact: { format: 'fine-tuned', description: FINE_TUNED_FIELDS },
    exportable: true,
  };
}

/** GET /v1/heads's answer for the registry `heads`, fine-tuning last. */
export const headList = (heads: readonly AnyHead[]): z.infer<typeof headsOut> => ({
  object: 'list',
  data: [...heads.map((h) => headJson(h, heads)), fineTuneJson()],
});

/** `heads`: the app's head registry. */
export function headsRoutes(heads: readonly AnyHead[]): Route[] {
  // The registry never changes while the app runs, so neither does the answer.
  const body = headList(heads);
  return [
    route({
      method: 'get',
      path: '/v1/heads',
      tag: 'training',
      scope: 'read',
      summary: 'The head types a training request can name: their parameters with defaults, the tasks they train, their artifacts.',
      responses: { 200: { description: "Every head type, in the registry's order.", schema: headsOut } },
      handler: ({ res }) => {
        res.json(body);
      },
    }),
  ];
}
