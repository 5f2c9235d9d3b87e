/** GET /v1/models: OpenAI's model list, with each model's layers, hidden size and token limit. */
import { Router } from 'express';
import { z } from 'zod';
import type { ModelRegistry } from '../../encoder/registry.js';
import type { Operation } from '../openapi.js';
import { DomainError } from '../../errors.js';

const model = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
  layers: z.number().int().describe('Encoder layers; hidden states run 0..layers.'),
  hidden_size: z.number().int(),
  max_tokens: z.number().int(),
  default: z.boolean(),
});
export const modelsResponse = z.object({ object: z.literal('list'), data: z.array(model) });

export const modelsOperations: Operation[] = [
  { method: 'get', path: '/v1/models', tag: 'models', summary: 'List loaded models.', responses: { 200: { description: 'Models.', schema: modelsResponse } } },
  { method: 'get', path: '/v1/models/:model', tag: 'models', summary: 'One model.', responses: { 200: { description: 'Model.', schema: model } } },
];

export function modelsRouter(models: ModelRegistry, startedAt: number): Router {
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
  const router = Router();
  router.get('/v1/models', (_req, res) => {
    res.json({ object: 'list', data: models.list().map(describe) } satisfies z.infer<typeof modelsResponse>);
  });
  router.get('/v1/models/:model', (req, res) => {
    const m = models.list().find((x) => x.name === req.params.model);
    if (!m) throw new DomainError('model_not_found', `model "${req.params.model}" does not exist`, 'model');
    res.json(describe(m));
  });
  return router;
}
