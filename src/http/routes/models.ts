/** GET /v1/models: OpenAI's model list, with each model's layers, hidden size and token limit. */
import type { z } from 'zod';
import type { ModelRegistry } from '../../encoder/registry.js';
import { DomainError } from '../../errors.js';
import { type Route, route } from '../route.js';
import { modelOut, modelsResponse } from '../schemas/model.js';
import { modelParam } from '../schemas/params.js';

export function modelsRoutes(models: ModelRegistry, startedAt: number): Route[] {
  const describe = (m: ReturnType<ModelRegistry['list']>[number]): z.infer<typeof modelOut> => ({
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
      responses: { 200: { description: 'Model.', schema: modelOut } },
      handler: ({ params, res }) => {
        const m = models.list().find((x) => x.name === params.model);
        if (!m) throw new DomainError('model_not_found', `model "${params.model}" does not exist`, 'model');
        res.json(describe(m));
      },
    }),
  ];
}
