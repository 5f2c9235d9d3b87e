/** Request fields that choose layers, pooling and normalisation: shared by embeddings and tasks. */
import { z } from 'zod';
import { COMBINES, POOLINGS } from '../../encoder/feature-spec.js';

const layerIndex = z.number().int();

export const featureSpecFields = {
  model: z.string().min(1).optional().describe('Model name (GET /v1/models); default: the first loaded model.'),
  layers: z
    .union([layerIndex, z.array(layerIndex).min(1).max(64)])
    .optional()
    .describe('Hidden state(s): 0 = embedding output, 1..L = encoder layers, negative counts from the top (-1 = last). Default -1.'),
  layer_combine: z.enum(COMBINES).optional().describe('How several layers become one vector. Default concat.'),
  pooling: z.enum(POOLINGS).optional().describe('How tokens become one vector. Default mean (over the attention mask).'),
  normalize: z.boolean().optional().describe('L2-normalise the result. Default true.'),
};
