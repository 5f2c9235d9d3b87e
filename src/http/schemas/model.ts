/** Models as the API returns them (OpenAI's model objects, with layers, hidden size and token limit). */
import { z } from 'zod';

export const modelOut = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int().describe('When this process started (Unix seconds).'),
  owned_by: z.string(),
  layers: z.number().int().describe('Encoder layers; hidden states run 0..layers.'),
  hidden_size: z.number().int(),
  max_tokens: z.number().int().describe('Longer inputs are truncated, or refused with truncate=false.'),
  default: z.boolean().describe('Used when a request names no model.'),
});
export const modelsResponse = z.object({ object: z.literal('list'), data: z.array(modelOut) });
