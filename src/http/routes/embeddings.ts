/** POST /v1/embeddings: OpenAI-compatible, with layer, pooling and normalisation extensions. */
import { Router } from 'express';
import { z } from 'zod';
import { specDimensions } from '../../encoder/feature-spec.js';
import { l2normalize } from '../../encoder/pooling.js';
import type { ModelRegistry } from '../../encoder/registry.js';
import { DomainError } from '../../errors.js';
import { clientGone, specFor } from '../encoding.js';
import type { Operation } from '../openapi.js';
import { featureSpecFields } from '../schemas/feature-spec.js';
import { jsonBody, parse } from '../validate.js';

export interface TextLimits {
  maxInputs: number;
  maxInputChars: number;
}

/** One text, or a non-empty list of them: the `input` of embeddings and predict calls. */
export function textInput(limits: TextLimits) {
  const text = z
    .string({
      error: (i) => (typeof i.input === 'number' || Array.isArray(i.input) ? 'token-id input is not supported; send text' : undefined),
    })
    .min(1, 'must not be empty')
    .max(limits.maxInputChars, `is longer than ${limits.maxInputChars} characters`);
  return z.union([text, z.array(text).min(1, 'must hold at least one text').max(limits.maxInputs, `holds more than ${limits.maxInputs} texts`)]);
}

export function embeddingsRequest(limits: TextLimits) {
  return z
    .object({
      input: textInput(limits).describe('Text or texts to embed.'),
      ...featureSpecFields,
      encoding_format: z.enum(['float', 'base64']).optional().describe('float (default) or base64 of little-endian float32.'),
      dimensions: z.number().int().min(1).optional().describe('Keep the first N dimensions (re-normalised when normalize is true).'),
      user: z.string().max(256).optional().describe('Accepted for OpenAI compatibility; ignored.'),
      truncate: z.boolean().optional().describe('Cut inputs longer than the model takes (default true); false answers 413 instead.'),
    })
    .strict();
}

export const embeddingsResponse = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ object: z.literal('embedding'), index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});

export function embeddingsOperations(limits: TextLimits): Operation[] {
  return [
    {
      method: 'post',
      path: '/v1/embeddings',
      tag: 'embeddings',
      summary: 'Embed texts (OpenAI-compatible; any hidden layer or combination of layers).',
      body: embeddingsRequest(limits),
      responses: { 200: { description: 'Embeddings in input order.', schema: embeddingsResponse } },
    },
  ];
}

/** Serialises the response by hand: for large batches this is several times faster than building arrays for JSON.stringify. */
function responseJson(vectors: Float32Array, dim: number, count: number, model: string, tokens: number, base64: boolean): string {
  const parts: string[] = ['{"object":"list","data":['];
  for (let i = 0; i < count; i++) {
    const row = vectors.subarray(i * dim, (i + 1) * dim);
    const embedding = base64 ? `"${Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('base64')}"` : `[${row.join(',')}]`;
    parts.push(`${i ? ',' : ''}{"object":"embedding","index":${i},"embedding":${embedding}}`);
  }
  parts.push(`],"model":${JSON.stringify(model)},"usage":{"prompt_tokens":${tokens},"total_tokens":${tokens}}}`);
  return parts.join('');
}

export function embeddingsRouter(models: ModelRegistry, limits: TextLimits): Router {
  const schema = embeddingsRequest(limits);
  const router = Router();
  router.post('/v1/embeddings', async (req, res) => {
    const body = parse(schema, jsonBody(req.body));
    const { encoder, spec } = specFor(models, body);
    const texts = typeof body.input === 'string' ? [body.input] : body.input;
    const fullDim = specDimensions(spec, encoder.manifest.hiddenSize);
    if (body.dimensions !== undefined && body.dimensions > fullDim) {
      throw new DomainError('invalid_value', `dimensions ${body.dimensions} exceeds the ${fullDim} this model and layer choice produce`, 'dimensions');
    }
    const result = await encoder.encode(texts, [spec], { truncate: body.truncate ?? true, signal: clientGone(res) });
    let vectors = result.features[0]!;
    let dim = fullDim;
    if (body.dimensions !== undefined && body.dimensions < fullDim) {
      dim = body.dimensions;
      const cut = new Float32Array(texts.length * dim);
      for (let i = 0; i < texts.length; i++) {
        cut.set(vectors.subarray(i * fullDim, i * fullDim + dim), i * dim);
        if (spec.normalize) l2normalize(cut, i * dim, dim);
      }
      vectors = cut;
    }
    res.type('application/json').send(responseJson(vectors, dim, texts.length, encoder.manifest.name, result.tokens, body.encoding_format === 'base64'));
  });
  return router;
}
