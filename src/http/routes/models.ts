/** GET /v1/models: OpenAI's model list, with each model's layers, hidden size and token limit. */
import { z } from 'zod';
import type { ModelRegistry } from '../../encoder/registry.js';
import { DomainError } from '../../errors.js';
import { type Route, route } from '../route.js';
import { modelParam } from '../schemas/params.js';

const model = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int().describe('When this process started (Unix seconds).'),
  owned_by: z.string(),
  layers: z.number().int().describe('Encoder layers; hidden states run 0..layers.'),
  hidden_size: z.number().int(),
  max_tokens: z.number().int().describe('Longer inputs are truncated, or refused with truncate=false.'),
  default: z.boolean().describe('Used when a request names no model.'),
});
export const modelsResponse = z.object({ object: z.literal('list'), data: z.array(model) });

export function modelsRoutes(models: ModelRegistry, startedAt: number): Route[] {
  const describe = (m: ReturnType<ModelRegistry['list']>[number]): z.infer<typeof model> => ({
    id: m.name,
    object: 'model',
    created: Math.floor(startedAt / 1000),
    owned_by: 'transferd',
    layers: m.layers,
    hidden_size: m.hiddenSize,
    max_tokens: m.maxTokens,
    default: m.name === models.defaultModel,
  });
  return [
    route({
      method: 'get',
      path: '/v1/models',
      tag: 'models',
      scope: 'any',
      summary: 'List loaded models.',
      responses: { 200: { description: 'Models.', schema: modelsResponse } },
      handler: ({ res }) => {
        res.json({ object: 'list', data: models.list().map(describe) } satisfies z.infer<typeof modelsResponse>);
      },
    }),
    route({
      method: 'get',
      path: '/v1/models/:model',
      tag: 'models',
      scope: 'any',
      summary: 'One model.',
      params: { model: modelParam },
      responses: { 200: { description: 'Model.', schema: model } },
      handler: ({ params, res }) => {
        const m = models.list().find((x) => x.name === params.model);
        if (!m) throw new DomainError('model_not_found', `model "${params.model}" does not exist`, 'model');
        res.json(describe(m));
      },
    }),
  ];
}
