/** Glue between HTTP requests and the encoders: model lookup, spec resolution, error mapping. */
import type { Response } from 'express';
import { EncoderError, type EncodeOptions, type EncodeResult, type Encoder } from '../encoder/encoder.js';
import { resolveSpec, SpecError, type FeatureSpec, type FeatureSpecInput } from '../encoder/feature-spec.js';
import type { ModelRegistry } from '../encoder/registry.js';
import { ApiError, badRequest, notFound, unavailable } from './errors.js';

export function encoderFor(models: ModelRegistry, name: string | undefined, param = 'model'): Encoder {
  const encoder = models.get(name ?? models.defaultModel);
  if (!encoder) {
    const known = models
      .list()
      .map((m) => m.name)
      .join(', ');
    throw notFound(`model "${name}" does not exist; loaded models: ${known}`, param, 'model_not_found');
  }
  return encoder;
}

/** Resolves request fields into a spec for a loaded model (400 naming the field when it cannot). */
export function specFor(
  models: ModelRegistry,
  fields: Omit<FeatureSpecInput, 'model'> & { model?: string | undefined },
  paramPrefix = '',
): { encoder: Encoder; spec: FeatureSpec } {
  const encoder = encoderFor(models, fields.model, `${paramPrefix}model`);
  try {
    return { encoder, spec: resolveSpec({ ...fields, model: encoder.manifest.name }, encoder.manifest.layers) };
  } catch (err) {
    if (err instanceof SpecError) throw badRequest(err.message, paramPrefix + err.param, 'invalid_feature_spec');
    throw err;
  }
}

/** An AbortSignal that fires when the client goes away before the response is sent. */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** An encoder failure as an API error; `param` names the texts' field. */
export function encoderFailure(err: unknown, param = 'input'): never {
  if (!(err instanceof EncoderError)) throw err;
  switch (err.code) {
    case 'input_too_long':
      throw new ApiError(413, 'input_too_long', err.message.replace(/^input/, param), `${param}[${err.index}]`);
    case 'overloaded':
      throw unavailable(err.message, 'overloaded', 1);
    case 'aborted':
      throw new ApiError(499, 'client_closed_request', 'the client closed the request');
    default:
      throw unavailable(err.message, 'encoder_unavailable', 2);
  }
}

/** Runs the encoder and maps its failures to API errors. */
export async function encodeTexts(
  encoder: Encoder,
  texts: string[],
  specs: FeatureSpec[],
  options: EncodeOptions & { param?: string } = {},
): Promise<EncodeResult> {
  try {
    return await encoder.encode(texts, specs, options);
  } catch (err) {
    return encoderFailure(err, options.param);
  }
}
